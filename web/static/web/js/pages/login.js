import { api } from "../api.js";
import { nextPath, redirectIfLoggedIn, startSession } from "../auth.js";
import { $, onSubmit } from "../dom.js";
import { showSocialOutcome } from "../social.js";

const form = $("[data-login-form]");
redirectIfLoggedIn();
showSocialOutcome($("[data-form-error]", form));
if (new URLSearchParams(window.location.search).get("deleted")) {
  const notice = $("[data-deleted-notice]");
  if (notice) notice.hidden = false;
}

onSubmit(form, async () => {
  const body = {
    username_or_email: form.elements.username_or_email.value.trim(),
    password: form.elements.password.value,
  };
  let answer;
  try {
    answer = await api("auth/login/", { method: "POST", body, auth: false });
  } catch (error) {
    if (error.status === 401) error.detail = "Wrong username/email or password.";
    throw error;
  }
  await startSession(answer);
  window.location.assign(nextPath());
});
