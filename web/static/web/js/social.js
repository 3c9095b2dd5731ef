// Social sign-in outcomes: the provider round trip (web/social_views.py) comes back with
// ?social_error=<code> or ?linked=<provider>; say what happened in the page's banner.

const MESSAGES = {
  account_exists:
    "An account already uses this email. Log in to it with your password, then link the provider from your profile.",
  already_linked: "That provider account is already linked to another PromptCraft account.",
  provider_linked: "Another account of this provider is linked already; unlink it first.",
  email_required: "The provider did not share an email address, which an account needs.",
  account_inactive: "This account is deactivated.",
  invalid_state: "The sign-in link expired or was not started here. Please try again.",
  invalid_code: "The provider's answer could not be used. Please try again.",
  invalid_token: "The provider's answer could not be verified. Please try again.",
  cancelled: "Sign-in with the provider was cancelled.",
  provider_error: "The provider could not be reached. Please try again later.",
  unknown_provider: "That sign-in provider is not available.",
  last_sign_in: "Set a password before unlinking your only sign-in provider.",
  not_linked: "That provider account is not linked to yours: confirm with the one you sign in with.",
};

export function socialErrorMessage(code) {
  return MESSAGES[code] || MESSAGES.provider_error;
}

/** Show the outcome named in the URL in `banner`; returns the linked provider's id, if any. */
export function showSocialOutcome(banner, notice) {
  const params = new URLSearchParams(window.location.search);
  const error = params.get("social_error");
  if (error && banner) {
    banner.textContent = socialErrorMessage(error);
    banner.hidden = false;
  }
  const linked = params.get("linked");
  if (linked && notice) {
    notice.textContent = "The provider is linked: you can now sign in with it.";
    notice.hidden = false;
  }
  return linked;
}
