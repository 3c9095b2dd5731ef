import { api } from "../api.js";
import { boot } from "../app.js";
import { avatarNode } from "../avatar.js";
import { $, $$, formatNumber, h } from "../dom.js";

const widgetTarget = $("[data-live-board]");
let board = "weekly";
let me = null;

function switchBoard(next) {
  board = next;
  for (const tab of $$("[data-board-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.boardTab === board));
  const previous = widgetTarget.promptcraftLeaderboard;
  if (previous) previous.destroy();
  if (window.PromptCraftLeaderboard) {
    widgetTarget.promptcraftLeaderboard = window.PromptCraftLeaderboard.mount(widgetTarget, {
      board,
      size: 20,
      base: widgetTarget.promptcraftBase,
    });
  }
  loadAround();
}

async function loadAround() {
  if (!me) return;
  try {
    const answer = await api("game/leaderboard/", { query: { board, around: "me" } });
    const entries = Array.isArray(answer) ? answer : answer.around && answer.around.length ? answer.around : answer.results || [];
    $("[data-around]").replaceChildren(
      ...entries.map((entry) =>
        h(
          "li",
          { class: entry.user && String(entry.user.id) === String(me.id) ? "me" : "" },
          h(
            "span",
            { class: "board-who" },
            avatarNode(entry.user, { size: 24 }),
            h("span", { text: `#${entry.rank} ${entry.user ? entry.user.username : ""}` }),
          ),
          h("span", { text: `${formatNumber(entry.score)} XP` }),
        ),
      ),
    );
    $("[data-around-section]").hidden = false;
  } catch {
    $("[data-around-section]").hidden = true;
  }
}

for (const tab of $$("[data-board-tab]")) {
  tab.addEventListener("click", () => switchBoard(tab.dataset.boardTab));
  tab.addEventListener("keydown", (event) => {
    const tabs = $$("[data-board-tab]");
    const index = tabs.indexOf(tab);
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      next.focus();
      next.click();
    }
  });
}

me = await boot();
await loadAround();
let timer = null;
window.addEventListener("pc:game", (event) => {
  if (event.detail.type !== "xp.awarded") return;
  clearTimeout(timer);
  timer = setTimeout(loadAround, 500);
});
document.body.dataset.leaderboardReady = "true";
