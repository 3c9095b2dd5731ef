// Settings: profile (names, bio, time zone), email with re-verification, password, providers,
// API keys, data export and account deletion.
import { api } from "../api.js";
import { setUpApiKeys } from "../api_keys.js";
import { endSession, getAccess, setLeaving, setUser, startSession } from "../auth.js";
import { boot } from "../app.js";
import { $, h, onSubmit, showError } from "../dom.js";
import { socialErrorMessage } from "../social.js";
import { setUpSocialLinks } from "../social_links.js";
import { toast } from "../toast.js";

const TZ_DECLINED_KEY = "pc:timezone-declined";

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

function fillProfile(user) {
  const form = $("[data-profile-form]");
  form.elements.first_name.value = user.first_name || "";
  form.elements.last_name.value = user.last_name || "";
  form.elements.bio.value = user.bio || "";
  form.elements.timezone.value = user.timezone || "UTC";
  $("[data-email-current]").textContent = user.email;
  $("[data-email-state]").textContent = user.email_verified ? "(verified)" : "(not verified)";
  $("[data-email-state]").dataset.verified = String(Boolean(user.email_verified));
  $("[data-email-unverified]").hidden = Boolean(user.email_verified);
}

function setUpProfile(state) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("[data-timezones]").replaceChildren(...["UTC", ...zones].map((zone) => h("option", { value: zone })));
  const form = $("[data-profile-form]");
  onSubmit(form, async () => {
    const body = {
      first_name: form.elements.first_name.value.trim(),
      last_name: form.elements.last_name.value.trim(),
      bio: form.elements.bio.value,
      timezone: form.elements.timezone.value.trim(),
    };
    state.user = await api("auth/me/", { method: "PATCH", body });
    setUser(state.user);
    fillProfile(state.user);
    $("[data-profile-saved]").hidden = false;
    form.querySelector("button[type=submit]").disabled = false;
  });
}

/** Offer the browser's time zone when it differs from the profile's: never changed without a yes. */
function offerTimeZone(state) {
  const zone = browserTimeZone();
  const panel = $("[data-tz-offer]");
  if (!zone || zone === state.user.timezone || localStorage.getItem(TZ_DECLINED_KEY) === zone) return;
  $("[data-tz-offer-text]").textContent = `Your browser says ${zone}; your profile says ${state.user.timezone}. Use ${zone}?`;
  const accept = $("[data-tz-accept]");
  const decline = $("[data-tz-decline]");
  accept.textContent = `Use ${zone}`;
  decline.textContent = `Keep ${state.user.timezone}`;
  panel.hidden = false;
  accept.addEventListener("click", async () => {
    accept.disabled = true;
    try {
      state.user = await api("auth/me/", { method: "PATCH", body: { timezone: zone } });
      setUser(state.user);
      fillProfile(state.user);
      panel.hidden = true;
      toast({ title: "Time zone updated", body: `Your days now count in ${zone}.`, kind: "success" });
    } catch (error) {
      accept.disabled = false;
      showError(null, error);
    }
  });
  decline.addEventListener("click", () => {
    localStorage.setItem(TZ_DECLINED_KEY, zone); // asked again only if the browser's zone changes
    panel.hidden = true;
  });
}

function setUpEmail(state) {
  const form = $("[data-email-form]");
  onSubmit(form, async () => {
    state.user = await api("auth/me/", { method: "PATCH", body: { email: form.elements.email.value.trim() } });
    setUser(state.user);
    fillProfile(state.user);
    form.reset();
    form.querySelector("button[type=submit]").disabled = false;
    toast({ title: "Email changed", body: `A verification link is on its way to ${state.user.email}.` });
  });
  const resend = $("[data-email-resend]");
  resend.addEventListener("click", async () => {
    resend.disabled = true;
    try {
      const answer = await api("auth/email/verify/resend/", { method: "POST" });
      toast({ title: "Link sent", body: answer.detail });
    } catch (error) {
      showError(null, error);
    } finally {
      resend.disabled = false;
    }
  });
}

function setUpPassword(state, hasPassword) {
  const form = $("[data-password-form]");
  $("[data-password-none]").hidden = hasPassword;
  form.hidden = !hasPassword;
  onSubmit(form, async () => {
    const body = Object.fromEntries(["old_password", "new_password", "new_password_confirm"].map((n) => [n, form.elements[n].value]));
    const pair = await api("auth/password/change/", { method: "POST", body });
    // Every session ended, this one included: keep the new pair as a fresh sign-in.
    await startSession({ ...pair, user: state.user });
    form.reset();
    $("[data-password-saved]").hidden = false;
    form.querySelector("button[type=submit]").disabled = false;
  });
}

function filenameOf(response) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return match ? match[1] : "promptcraft-export.json";
}

function setUpExport() {
  const button = $("[data-export]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const response = await fetch("/api/v1/auth/me/export/", {
        headers: { Authorization: `Bearer ${await getAccess()}`, Accept: "application/json" },
        credentials: "omit",
      });
      if (!response.ok) throw new Error("The export could not be prepared; please try again.");
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: filenameOf(response), hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      showError(null, error);
    } finally {
      button.disabled = false;
    }
  });
}

/** A confirmation from a fresh provider sign-in comes back in the URL's fragment (never sent to a server). */
function takeConfirmation() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get("delete_confirmation");
  if (token) history.replaceState(null, "", window.location.pathname + window.location.search);
  return token;
}

async function reauthStart(provider) {
  const response = await fetch(`/social/${encodeURIComponent(provider.id)}/reauth/`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Authorization: `Bearer ${await getAccess()}`, Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.url) throw new Error(body.detail || socialErrorMessage(body.code));
  window.location.assign(body.url);
}

function setUpDelete(social) {
  const form = $("[data-delete-form]");
  const start = $("[data-delete-start]");
  const confirmButton = $("[data-delete-confirm]");
  const understood = $("[data-delete-understood]");
  const confirmation = takeConfirmation();
  const open = () => {
    form.hidden = false;
    start.hidden = true;
    (social.has_password ? form.elements.password : understood).focus();
  };
  start.addEventListener("click", open);
  $("[data-delete-cancel]").addEventListener("click", () => {
    form.hidden = true;
    start.hidden = false;
    form.reset();
    confirmButton.disabled = true;
    start.focus();
  });
  understood.addEventListener("change", () => {
    confirmButton.disabled = !understood.checked || (!social.has_password && !confirmation);
  });
  if (!social.has_password) {
    $("[data-delete-password]").hidden = true;
    $("[data-delete-providers]").hidden = false;
    const names = Object.fromEntries(social.providers.map((p) => [p.id, p.name]));
    const linked = [...new Set(social.links.map((link) => link.provider))];
    $("[data-delete-provider-buttons]").replaceChildren(
      ...linked.map((id) => {
        const provider = { id, name: names[id] || id };
        const button = h("button", {
          class: "btn",
          type: "button",
          text: `Confirm with ${provider.name}`,
          dataset: { deleteReauth: id },
          onclick: async () => {
            button.disabled = true;
            try {
              await reauthStart(provider);
            } catch (error) {
              button.disabled = false;
              showError(form, error);
            }
          },
        });
        return button;
      }),
    );
    if (confirmation) {
      $("[data-delete-confirmed]").hidden = false;
      open();
    }
  }
  onSubmit(form, async () => {
    const body = social.has_password ? { password: form.elements.password.value } : { confirmation };
    setLeaving(true); // the account's sockets close (4401) as the deletion commits
    try {
      await api("auth/me/", { method: "DELETE", body });
    } catch (error) {
      setLeaving(false);
      throw error;
    }
    await endSession().catch(() => null);
    window.location.assign("/login/?deleted=1");
  });
}

const user = await boot();
const state = { user };
fillProfile(user);
setUpProfile(state);
offerTimeZone(state);
setUpEmail(state);
setUpExport();
const social = await api("auth/social/").catch((error) => {
  showError(null, error);
  return { providers: [], links: [], has_password: true };
});
setUpPassword(state, social.has_password);
setUpDelete(social);
await Promise.all([
  setUpApiKeys().catch((error) => showError(null, error)),
  setUpSocialLinks().catch((error) => showError(null, error)),
]);
document.body.dataset.settingsReady = "true";
