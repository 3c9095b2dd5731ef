// Ask for a password-reset email; the answer is the same whether or not the email has an account.
import { api } from "../api.js";
import { $, onSubmit } from "../dom.js";

const form = $("[data-forgot-form]");
document.body.dataset.ready = "true";

onSubmit(form, async () => {
  await api("auth/password/reset/", { method: "POST", body: { email: form.elements.email.value.trim() }, auth: false });
  form.hidden = true;
  $("[data-forgot-sent]").hidden = false;
});
