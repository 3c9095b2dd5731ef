// Ask for a password-reset email; the answer is the same whether or not the email has an account.
import { api } from "../api.js";
import { $, clearErrors, showError } from "../dom.js";

const form = $("[data-forgot-form]");
document.body.dataset.ready = "true";

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("auth/password/reset/", { method: "POST", body: { email: form.elements.email.value.trim() }, auth: false });
    form.hidden = true;
    $("[data-forgot-sent]").hidden = false;
  } catch (error) {
    showError(form, error);
    button.disabled = false;
  }
});
