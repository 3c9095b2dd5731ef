// Page bootstrap: restore the session, show the header, follow live game events.
import { api } from "./api.js";
import { endSession, refreshAccess, redirectToLogin, setLeaving, setUser } from "./auth.js";
import { $ } from "./dom.js";
import { startPlayer } from "./player.js";

function showUnreachable() {
  const banner = $("[data-connection-banner]");
  if (banner) {
    banner.textContent = "Cannot reach PromptCraft right now. Reload the page in a moment.";
    banner.hidden = false;
  }
}

/** Resolves with the logged-in user (or null on public pages); redirects to log in where needed. */
export async function boot() {
  const loginRequired = document.body.dataset.loginRequired === "true";
  let token;
  try {
    token = await refreshAccess();
  } catch {
    showUnreachable();
    return new Promise(() => {}); // nothing on this page can work without the server
  }
  let user = null;
  if (token) {
    try {
      user = await api("auth/me/");
    } catch {
      user = null;
    }
  }
  if (!user) {
    if (loginRequired) {
      redirectToLogin();
      return new Promise(() => {}); // the page is leaving
    }
    const guest = $("[data-guest]");
    if (guest) guest.hidden = false;
    document.body.dataset.ready = "true";
    return null;
  }
  setUser(user);
  startPlayer(user);
  const logout = $("[data-logout]");
  if (logout) {
    logout.addEventListener("click", async () => {
      logout.disabled = true;
      // Ending the session closes this page's sockets (4401): only this navigation may follow.
      setLeaving(true);
      await endSession();
      window.location.assign("/login/");
    });
  }
  document.body.dataset.ready = "true";
  return user;
}
