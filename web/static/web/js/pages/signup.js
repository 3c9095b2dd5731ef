import { api } from "../api.js";
import { nextPath, redirectIfLoggedIn, startSession } from "../auth.js";
import { $, onSubmit } from "../dom.js";
import { showSocialOutcome } from "../social.js";

const form = $("[data-signup-form]");
redirectIfLoggedIn();
showSocialOutcome($("[data-form-error]", form));

onSubmit(form, async () => {
  const body = Object.fromEntries(
    ["username", "email", "first_name", "last_name", "password", "password_confirm"].map((name) => [
      name,
      name.startsWith("password") ? form.elements[name].value : form.elements[name].value.trim(),
    ]),
  );
  const answer = await api("auth/register/", { method: "POST", body, auth: false });
  await startSession(answer);
  window.location.assign(nextPath());
});
