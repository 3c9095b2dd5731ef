// Set a new password from the emailed one-time link (?uid=…&token=…).
import { api } from "../api.js";
import { $, onSubmit } from "../dom.js";

const form = $("[data-reset-form]");
const params = new URLSearchParams(window.location.search);
document.body.dataset.ready = "true";

onSubmit(form, async () => {
  const body = {
    uid: params.get("uid") || "",
    token: params.get("token") || "",
    new_password: form.elements.new_password.value,
    new_password_confirm: form.elements.new_password_confirm.value,
  };
  await api("auth/password/reset/confirm/", { method: "POST", body, auth: false });
  form.hidden = true;
  $("[data-reset-done]").hidden = false;
});
