import { api } from "../api.js";
import { nextPath, refreshAccess, startSession } from "../auth.js";
import { $, clearErrors, showError } from "../dom.js";

const form = $("[data-login-form]");

// Already logged in (the session cookie is still valid): go straight on.
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
  const body = {
    username_or_email: form.elements.username_or_email.value.trim(),
    password: form.elements.password.value,
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api("auth/login/", { method: "POST", body, auth: false });
    await startSession(answer);
    window.location.assign(nextPath());
  } catch (error) {
    if (error.status === 401) {
      error.detail = "Wrong username/email or password.";
    }
    showError(form, error);
    button.disabled = false;
  }
});
