// A challenge's leaderboard: the REST page first (for learners), then `/ws/leaderboard/challenge-<slug>/`.
import { avatarNode } from "./avatar.js";
import { $, formatNumber, h } from "./dom.js";
import { wsUrl } from "./socket.js";

const SIZE = 10;

export class ChallengeBoard {
  constructor({ list, live, empty, slug, meId = null }) {
    this.list = list;
    this.live = live;
    this.empty = empty;
    this.slug = slug;
    this.meId = meId === null ? null : String(meId);
    this.ws = null;
    this.failures = 0;
    this.timer = null;
  }

  /** Entries `{rank, user: {id, username, avatar_url}, score, prompt_tokens?}`, best first. */
  render(entries) {
    this.list.replaceChildren(
      ...entries.slice(0, SIZE).map((entry) => {
        const user = entry.user || {};
        const mine = this.meId !== null && String(user.id) === this.meId;
        return h(
          "li",
          { class: mine ? "me" : "", dataset: { username: user.username || "", rank: entry.rank, score: entry.score } },
          h("span", { class: "board-rank", text: `#${entry.rank}` }),
          h("span", { class: "board-who" }, avatarNode(user, { size: 24 }), h("span", { class: "board-name", text: user.username || "?" })),
          h("span", { class: "board-score", text: formatNumber(entry.score) }),
          h("span", {
            class: "board-tokens muted",
            text: entry.prompt_tokens === undefined || entry.prompt_tokens === null ? "" : `${entry.prompt_tokens} tok`,
          }),
        );
      }),
    );
    this.empty.hidden = entries.length > 0;
    this.list.dataset.updated = String(Date.now());
  }

  setLive(on, text) {
    this.live.className = on ? "live" : "live off";
    this.live.textContent = text;
  }

  connect() {
    this.setLive(false, this.failures ? "Reconnecting…" : "Connecting…");
    const ws = new WebSocket(wsUrl(`/ws/leaderboard/challenge-${encodeURIComponent(this.slug)}/?size=${SIZE}`));
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.failures = 0;
      this.setLive(true, "● Live");
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "leaderboard.snapshot" || message.type === "leaderboard.update") {
        this.render(message.entries || []);
      }
    });
    ws.addEventListener("close", () => {
      if (ws !== this.ws) return;
      this.failures += 1;
      this.setLive(false, this.failures >= 3 ? "Not live" : "Reconnecting…");
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6)) * (0.75 + Math.random() * 0.5);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  destroy() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
  }
}

export function boardElements(root = document) {
  return { list: $("[data-challenge-board]", root), live: $("[data-board-live]", root), empty: $("[data-board-empty]", root) };
}
