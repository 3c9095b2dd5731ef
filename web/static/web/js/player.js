// The header's live player status (level, rank, XP bar, credits) and game toasts from /ws/events/.
import { api } from "./api.js";
import { avatarNode } from "./avatar.js";
import { $ } from "./dom.js";
import { bellOnEvent, refreshBell } from "./notification_bell.js";
import { levelProgress } from "./progress.js";
import { AuthSocket } from "./socket.js";
import { toast } from "./toast.js";

const state = { xp: 0, level: 1, rank: "", credits: 0, fraction: 0 };

function render() {
  const root = $("[data-player]");
  if (!root) return;
  $("[data-player-level]", root).textContent = state.level;
  $("[data-player-rank]", root).textContent = state.rank;
  $("[data-player-xp]", root).textContent = Number(state.xp).toLocaleString("en-US");
  $("[data-player-credits]", root).textContent = Number(state.credits).toLocaleString("en-US", {
    maximumFractionDigits: 2,
  });
  const percent = Math.round((state.fraction || 0) * 100);
  const bar = $("[data-xp-bar]", root);
  bar.setAttribute("aria-valuenow", String(percent));
  bar.setAttribute("aria-valuetext", `${percent}% of the way to level ${state.level + 1}`);
  $("[data-xp-fill]", root).style.width = `${percent}%`;
}

function bump(selector) {
  const node = $(selector);
  if (!node) return;
  node.classList.remove("bump");
  void node.offsetWidth; // restart the animation
  node.classList.add("bump");
}

let progressTimer = null;
async function refreshProgress() {
  try {
    const progress = levelProgress(await api("game/profile/"));
    if (progress.fraction !== undefined) state.fraction = progress.fraction;
    if (progress.xp !== undefined) state.xp = Math.max(state.xp, progress.xp);
    if (progress.level !== undefined) state.level = Math.max(state.level, progress.level);
    if (progress.rank) state.rank = progress.rank;
    render();
  } catch {
    // The numbers from auth/me and the live events are still shown.
  }
}

function scheduleProgress() {
  clearTimeout(progressTimer);
  progressTimer = setTimeout(refreshProgress, 300);
}

function onGameEvent(message) {
  bellOnEvent(message);
  switch (message.type) {
    case "xp.awarded":
      state.xp = message.total_xp ?? state.xp + (message.amount || 0);
      if (message.level) state.level = message.level;
      render();
      bump("[data-player-xp]");
      toast({ title: `+${message.amount} XP`, body: humanReason(message.reason), kind: "xp" });
      scheduleProgress();
      break;
    case "level.up":
      state.level = message.level;
      if (message.rank) state.rank = message.rank;
      render();
      bump("[data-player-level]");
      toast({ title: `Level ${message.level}!`, body: message.rank ? `You are now ${message.rank}.` : "", kind: "level" });
      scheduleProgress();
      break;
    case "badge.unlocked": {
      const badge = message.badge || {};
      toast({ title: `Badge unlocked: ${badge.name || badge.slug}`, body: badge.description || "", kind: "badge" });
      break;
    }
    case "credits.changed":
      state.credits = message.balance;
      render();
      bump("[data-player-credits]");
      break;
    case "streak.updated":
      if (message.days > 1) toast({ title: `${message.days}-day streak`, body: "Keep practising every day.", kind: "streak" });
      break;
    default:
      return;
  }
  window.dispatchEvent(new CustomEvent("pc:game", { detail: message }));
}

function humanReason(reason) {
  if (!reason) return "";
  return String(reason).replace(/[._]/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/** Show the player's status for `user` (from auth/me/) and follow their live game events. */
export function startPlayer(user) {
  state.xp = user.experience_points ?? 0;
  state.level = user.level ?? 1;
  state.rank = user.user_rank ?? "";
  state.credits = user.credits ?? 0;
  const root = $("[data-player]");
  if (root) {
    $("[data-player-name]", root).textContent = user.username;
    const showAvatar = (avatarUrl) =>
      $("[data-player-avatar]", root).replaceChildren(avatarNode({ username: user.username, avatar_url: avatarUrl }, { size: 28 }));
    showAvatar(user.avatar_url);
    window.addEventListener("pc:avatar", (event) => showAvatar(event.detail.avatar_url));
    root.hidden = false;
  }
  render();
  refreshProgress();
  refreshBell();
  const socket = new AuthSocket("/ws/events/");
  socket.addEventListener("message", (event) => onGameEvent(event.detail));
  socket.addEventListener("open", (event) => {
    // Events missed before the socket joined, or while it was down, are not replayed: re-read.
    refreshBell();
    if (event.detail.reconnected) {
      api("auth/me/")
        .then((me) => {
          state.credits = me.credits;
          state.xp = me.experience_points;
          state.level = me.level;
          state.rank = me.user_rank;
          render();
        })
        .catch(() => {});
    }
  });
  return socket;
}

/** Set the credits shown (e.g. from a finished run) without waiting for the event. */
export function playerCredits() {
  return state.credits;
}
