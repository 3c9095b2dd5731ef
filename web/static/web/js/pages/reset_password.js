// Set a new password from the emailed one-time link (?uid=…&token=…).
import { api } from "../api.js";
import { $, clearErrors, showError } from "../dom.js";

const form = $("[data-reset-form]");
const params = new URLSearchParams(window.location.search);
document.body.dataset.ready = "true";

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const body = {
    uid: params.get("uid") || "",
    token: params.get("token") || "",
    new_password: form.elements.new_password.value,
    new_password_confirm: form.elements.new_password_confirm.value,
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("auth/password/reset/confirm/", { method: "POST", body, auth: false });
    form.hidden = true;
    $("[data-reset-done]").hidden = false;
  } catch (error) {
    showError(form, error);
    button.disabled = false;
  }
});
