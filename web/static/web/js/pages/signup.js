import { api } from "../api.js";
import { nextPath, refreshAccess, startSession } from "../auth.js";
import { $, clearErrors, showError } from "../dom.js";

const form = $("[data-signup-form]");

refreshAccess()
  .catch(() => null)
  .then((token) => {
    if (token) window.location.replace(nextPath());
    else document.body.dataset.ready = "true";
    const guest = $("[data-guest]");
    if (guest && !token) guest.hidden = false;
  });

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const body = Object.fromEntries(
    ["username", "email", "first_name", "last_name", "password", "password_confirm"].map((name) => [
      name,
      name.startsWith("password") ? form.elements[name].value : form.elements[name].value.trim(),
    ]),
  );
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api("auth/register/", { method: "POST", body, auth: false });
    await startSession(answer);
    window.location.assign(nextPath());
  } catch (error) {
    showError(form, error);
    button.disabled = false;
  }
});
