// Tokens: the access token lives only in this module's memory. The refresh token is kept by the
// server in an HttpOnly, SameSite=Strict cookie scoped to /session/ (see web/services.py), so no
// script can read it and nothing secret is written to localStorage, sessionStorage or URLs.

let accessToken = null;
let user = null;
let refreshing = null;
const listeners = new Set();

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function postSession(path, body) {
  return fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body ? JSON.stringify(body) : "{}",
  });
}

async function fetchAccessFromCookie() {
  let response = await postSession("/session/token/");
  if (response.status === 401 && (await response.clone().json().catch(() => ({}))).code !== "no_session") {
    // Another tab may have just rotated the cookie: its new value is already stored, try once more.
    await new Promise((resolve) => setTimeout(resolve, 250));
    response = await postSession("/session/token/");
  }
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok) throw new Error(`The session service answered ${response.status}.`);
  const data = await response.json();
  return data.access || null;
}

/**
 * A fresh access token through the session cookie (one refresh at a time): resolves with null when
 * the session has ended, rejects when the server cannot be reached (the caller retries later).
 */
export async function refreshAccess() {
  if (!refreshing) {
    refreshing = fetchAccessFromCookie()
      .then((token) => {
        accessToken = token;
        return token;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export function currentAccess() {
  return accessToken;
}

export function currentUser() {
  return user;
}

export function setUser(value) {
  user = value;
  for (const listener of listeners) listener(user);
}

export function onUserChange(listener) {
  listeners.add(listener);
}

/** A JWT's expiry in epoch milliseconds (0 when it cannot be read). */
export function decodeExpiry(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.exp * 1000;
  } catch {
    return 0;
  }
}

/** The access token, refreshed shortly before it expires. */
export async function getAccess() {
  if (accessToken && decodeExpiry(accessToken) - Date.now() > 30_000) return accessToken;
  return refreshAccess();
}

/** Keep a login/registration answer: access in memory, refresh handed to the HttpOnly cookie. */
export async function startSession({ access, refresh, user: loggedIn }) {
  const response = await postSession("/session/", { refresh });
  if (!response.ok) throw new Error("Could not start the session.");
  accessToken = access;
  setUser(loggedIn || null);
}

export async function endSession() {
  try {
    await postSession("/session/logout/");
  } finally {
    accessToken = null;
    setUser(null);
  }
}

export function loginUrl() {
  const next = window.location.pathname + window.location.search;
  return `/login/?next=${encodeURIComponent(next)}`;
}

/** On the login and sign-up pages: a visitor whose session is still valid goes straight on. */
export function redirectIfLoggedIn() {
  refreshAccess()
    .catch(() => null)
    .then((token) => {
      if (token) window.location.replace(nextPath());
      else document.body.dataset.ready = "true";
      const guest = document.querySelector("[data-guest]");
      if (guest && !token) guest.hidden = false;
    });
}

let leaving = false;

/** While the page ends its own session (deleting the account), sockets closing do not send it to log in. */
export function setLeaving(value) {
  leaving = value;
}

export function redirectToLogin() {
  if (leaving) return;
  window.location.assign(loginUrl());
}

/**
 * Where to go after logging in: the page's `data-next`, which the server sets only to a path on
 * this site (web/redirects.py); resolved here too, so no other origin is ever followed.
 */
export function nextPath() {
  const target = new URL(document.body.dataset.next || "/", window.location.origin);
  return target.origin === window.location.origin ? target.pathname + target.search + target.hash : "/";
}
