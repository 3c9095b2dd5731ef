import { api, apiList } from "../api.js";
import { boot } from "../app.js";
import { renderBars } from "../charts.js";
import { $, formatDate, formatMs, formatNumber, h, showError } from "../dom.js";
import { levelProgress } from "../progress.js";

function humanReason(reason) {
  return String(reason || "").replace(/[._]/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

async function loadProfile(user) {
  const profile = await api("game/profile/");
  const progress = levelProgress({ ...user, ...profile });
  $("[data-p-name]").textContent = `${user.username}'s progress`;
  $("[data-p-level]").textContent = progress.level ?? user.level;
  $("[data-p-rank]").textContent = progress.rank ?? user.user_rank;
  $("[data-p-xp]").textContent = formatNumber(progress.xp ?? user.experience_points);
  $("[data-p-streak]").textContent = progress.streak !== undefined ? `${progress.streak} day${progress.streak === 1 ? "" : "s"}` : "–";
  $("[data-p-credits]").textContent = formatNumber(profile.credits ?? user.credits, 2);
  const percent = Math.round((progress.fraction || 0) * 100);
  const bar = $("[data-p-bar]");
  bar.setAttribute("aria-valuenow", String(percent));
  $("[data-p-fill]").style.width = `${percent}%`;
  $("[data-p-next]").textContent =
    progress.toNext !== undefined ? `${formatNumber(progress.toNext)} XP to level ${(progress.level ?? user.level) + 1}` : "";
  return profile;
}

function badgeItem(badge) {
  const unlocked = Boolean(badge.unlocked_at || badge.unlocked);
  const target = Number(badge.target ?? 0);
  const current = Math.min(Number(badge.progress ?? 0), target || Infinity);
  return h(
    "li",
    { class: `badge ${unlocked ? "unlocked" : "locked"}`, "data-badge": badge.slug },
    h("span", { class: `tier tier-${badge.tier}`, text: badge.tier || "" }),
    h("span", { class: "badge-name" }, unlocked ? h("span", { class: "badge-mark", "aria-hidden": "true", text: "★ " }) : null, badge.name),
    h("span", { class: "muted", text: badge.description || "" }),
    unlocked
      ? h("span", { class: "muted", text: `Unlocked ${formatDate(badge.unlocked_at)}` })
      : target
        ? h(
            "label",
            {},
            h("span", { class: "visually-hidden", text: `${badge.name} progress` }),
            h("progress", { max: target, value: current }),
            h("span", { class: "muted", text: ` ${formatNumber(current)} / ${formatNumber(target)}` }),
          )
        : null,
  );
}

async function loadBadges() {
  const badges = await apiList("game/badges/");
  badges.sort((a, b) => Number(Boolean(b.unlocked_at)) - Number(Boolean(a.unlocked_at)));
  $("[data-badges]").replaceChildren(...badges.map(badgeItem));
  if (!badges.length) $("[data-badges]").replaceChildren(h("li", { class: "muted", text: "No badges defined yet." }));
}

async function loadLedgers() {
  const [xp, credits] = await Promise.all([
    api("game/xp-events/", { query: { page_size: 20 } }),
    api("game/credits/", { query: { page_size: 20 } }),
  ]);
  const rowsOf = (answer) => (Array.isArray(answer) ? answer : answer.results || []);
  $("[data-xp-history]").replaceChildren(
    ...rowsOf(xp).map((row) =>
      h("tr", {}, h("td", { text: formatDate(row.created_at) }), h("td", { text: humanReason(row.reason) }), h("td", { class: "num", text: `+${formatNumber(row.amount)}` })),
    ),
  );
  $("[data-credit-history]").replaceChildren(
    ...rowsOf(credits).map((row) => {
      const delta = Number(row.delta ?? row.amount ?? 0);
      return h(
        "tr",
        {},
        h("td", { text: formatDate(row.created_at) }),
        h("td", { text: humanReason(row.reason) }),
        h("td", { class: "num", text: `${delta > 0 ? "+" : ""}${formatNumber(delta, 2)}` }),
        h("td", { class: "num", text: formatNumber(row.balance_after ?? row.balance, 2) }),
      );
    }),
  );
}

async function loadActivity() {
  const insights = await api("insights/me/", { query: { days: 30 } });
  const totals = insights.totals || {};
  const stat = (label, value) =>
    h("div", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: "stat-value", text: value }));
  $("[data-activity-totals]").replaceChildren(
    stat("Runs", formatNumber(totals.runs)),
    stat("Tokens out", formatNumber(totals.output_tokens)),
    stat("Credits spent", formatNumber(totals.credits_spent)),
    stat("XP earned", formatNumber(totals.xp_earned)),
    stat("Avg first token", formatMs(totals.avg_ttft_ms)),
  );
  const days = insights.daily_xp || [];
  const total = days.reduce((sum, day) => sum + (Number(day.xp) || 0), 0);
  renderBars($("[data-xp-bars]"), days, {
    value: (day) => day.xp,
    title: (day) => `${day.date}: ${day.xp} XP`,
    summary: `XP earned per day over the last ${days.length} days: ${total} in total`,
  });
}

function showVerification(user) {
  const panel = $("[data-verify-email]");
  if (user.email_verified) return;
  $("[data-verify-address]").textContent = user.email;
  panel.hidden = false;
  const button = $("[data-verify-resend]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await api("auth/email/verify/resend/", { method: "POST" });
      const sent = $("[data-verify-sent]");
      sent.textContent = answer.detail;
      sent.hidden = false;
    } catch (error) {
      showError(null, error);
      button.disabled = false;
    }
  });
}

const user = await boot();
showVerification(user);
async function refresh() {
  const results = await Promise.allSettled([loadProfile(user), loadBadges(), loadLedgers(), loadActivity()]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) showError(null, failed.reason);
}
await refresh();
let timer = null;
window.addEventListener("pc:game", () => {
  clearTimeout(timer);
  timer = setTimeout(refresh, 400);
});
document.body.dataset.profileReady = "true";
