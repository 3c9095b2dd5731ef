// An authenticated JSON WebSocket that authenticates with its first message and reconnects.
import { decodeExpiry, getAccess, refreshAccess, redirectToLogin } from "./auth.js";

const CLOSE_UNAUTHENTICATED = 4401;

export function wsUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

/**
 * Events: "open" (authenticated, `{reconnected}`), "message" (every server message), "down" (lost,
 * will retry). Messages sent while down are queued and flushed after the next authentication.
 */
export class AuthSocket extends EventTarget {
  constructor(path) {
    super();
    this.path = path;
    this.ws = null;
    this.ready = false;
    this.queue = [];
    this.attempt = 0;
    this.everOpened = false;
    this.closedByUs = false;
    this.token = null;
    this.renewTimer = null;
    this.connect();
  }

  async connect() {
    let token;
    try {
      token = await getAccess();
    } catch {
      this.retryLater(); // the server is unreachable: try again, the session may well be fine
      return;
    }
    if (!token) {
      redirectToLogin();
      return;
    }
    const ws = new WebSocket(wsUrl(this.path));
    this.ws = ws;
    this.token = token;
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", token })));
    ws.addEventListener("message", (event) => this.onFrame(ws, event));
    ws.addEventListener("close", (event) => this.onClose(ws, event));
  }

  onFrame(ws, event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "auth.ok" && message.renewed) {
      this.scheduleRenewal();
      return;
    }
    if (message.type === "auth.ok") {
      this.scheduleRenewal();
      const reconnected = this.everOpened;
      this.ready = true;
      this.everOpened = true;
      this.attempt = 0;
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnected } }));
      const pending = this.queue.splice(0);
      for (const item of pending) this.send(item);
      return;
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  /**
   * The server closes the socket when its token expires; a fresh token sent a little before that
   * keeps the same socket (and its live events) going with no gap.
   */
  scheduleRenewal() {
    clearTimeout(this.renewTimer);
    const lifetime = decodeExpiry(this.token) - Date.now();
    if (lifetime <= 0) return;
    const lead = Math.min(60_000, lifetime / 4);
    this.renewTimer = setTimeout(() => this.renew(), lifetime - lead);
  }

  async renew() {
    const ws = this.ws;
    let token;
    try {
      token = await refreshAccess();
    } catch {
      return; // server unreachable: the close at expiry reconnects later
    }
    if (!token || ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    this.token = token;
    ws.send(JSON.stringify({ type: "auth", token }));
  }

  async onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ready = false;
    clearTimeout(this.renewTimer);
    if (this.closedByUs) return;
    this.dispatchEvent(new CustomEvent("down", { detail: { code: event.code } }));
    if (event.code === CLOSE_UNAUTHENTICATED) {
      // The access token expired (or was refused): get a new one before reconnecting.
      const token = await refreshAccess().catch(() => undefined);
      if (token === null) {
        redirectToLogin();
        return;
      }
    }
    this.retryLater();
  }

  retryLater() {
    this.attempt += 1;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.attempt - 1, 6)) * (0.75 + Math.random() * 0.5);
    setTimeout(() => this.connect(), this.attempt === 1 ? 100 : delay);
  }

  /** Send now if authenticated, otherwise once the socket is back. */
  send(message) {
    if (this.ready && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    this.queue.push(message);
    return false;
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.renewTimer);
    if (this.ws) this.ws.close(1000);
  }
}
