// The header's notification bell: the unread count, kept current across reloads and devices.
import { api } from "./api.js";
import { $ } from "./dom.js";

// Events the server may keep as notifications (it decides which: game.notifications).
const NOTIFIED = new Set(["xp.awarded", "level.up", "badge.unlocked", "streak.updated", "credits.changed"]);
let timer = null;
let unread = 0;

export function bellCount() {
  return unread;
}

function render() {
  const bell = $("[data-bell]");
  if (!bell) return;
  const count = $("[data-bell-count]", bell);
  count.textContent = unread > 99 ? "99+" : String(unread);
  count.hidden = unread === 0;
  bell.dataset.unread = String(unread);
  const label = unread === 0 ? "Notifications, none unread" : `Notifications, ${unread} unread`;
  $("[data-bell-label]", bell).textContent = label;
  window.dispatchEvent(new CustomEvent("pc:unread", { detail: { unread } }));
}

/** Read the count from the server (after a reload, a reconnect, or new events). */
export async function refreshBell() {
  try {
    const answer = await api("game/notifications/unread-count/");
    unread = answer.unread;
    render();
  } catch {
    // The count shown stays; the next event or reload reads it again.
  }
}

/** Set the count from an answer that carries it (marking read). */
export function setBell(count) {
  unread = count;
  render();
}

/** A frame from /ws/events/: a kept event may have added one; a read mark (any device) sets the count. */
export function bellOnEvent(message) {
  if (message.type === "notifications.read") {
    setBell(message.unread);
    window.dispatchEvent(new CustomEvent("pc:notifications-read", { detail: message }));
    return;
  }
  if (!NOTIFIED.has(message.type)) return;
  // One read for a burst of events (a run brings XP, a streak and a badge at once).
  clearTimeout(timer);
  timer = setTimeout(refreshBell, 250);
}
