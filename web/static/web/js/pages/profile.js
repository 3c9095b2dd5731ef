import { api, apiList } from "../api.js";
import { setUpApiKeys } from "../api_keys.js";
import { avatarNode } from "../avatar.js";
import { setUpSocialLinks } from "../social_links.js";
import { boot } from "../app.js";
import { bucketLabel, drawChart, windowControls } from "../insight_charts.js";
import { $, formatDate, formatMs, formatNumber, h, showError } from "../dom.js";
import { levelProgress } from "../progress.js";

function humanReason(reason) {
  return String(reason || "").replace(/[._]/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

async function loadProfile(user) {
  const profile = await api("game/profile/");
  const progress = levelProgress({ ...user, ...profile });
  $("[data-p-name]").textContent = `${user.username}'s progress`;
  showAvatar();
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

let avatarUrl = null; // the signed-in user's, kept up to date by the avatar section's announcements

function showAvatar() {
  $("[data-p-avatar]").replaceChildren(avatarNode({ username: user.username, avatar_url: avatarUrl }, { size: 64 }));
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

let activityQuery = { days: 30, bucket: "day" };

async function loadActivity() {
  const controls = $("[data-activity-controls]");
  if (!controls.childElementCount) {
    activityQuery = windowControls(controls, (query) => {
      activityQuery = query;
      loadActivity().catch((error) => showError(null, error));
    }, activityQuery);
  }
  const insights = await api("insights/me/", { query: activityQuery });
  const totals = insights.totals || {};
  const series = insights.series || [];
  const bucket = insights.window?.bucket || "day";
  const stat = (label, value) =>
    h("div", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: "stat-value", text: value }));
  const percent = (rate) => (rate == null ? "–" : `${Math.round(rate * 100)}%`);
  $("[data-activity-totals]").replaceChildren(
    stat("Runs", formatNumber(totals.runs)),
    stat("Tokens out", formatNumber(totals.output_tokens)),
    stat("Credits spent", formatNumber(totals.credits_spent)),
    stat("XP earned", formatNumber(totals.xp_earned)),
    stat("Credits earned", formatNumber(totals.credits_earned)),
    stat("Success rate", percent(totals.success_rate)),
    stat("Median first token", formatMs(totals.median_ttft_ms)),
    stat("Median run", formatMs(totals.median_latency_ms)),
    stat("Challenges passed", `${formatNumber(totals.challenges_passed)} / ${formatNumber(totals.challenges_attempted)}`),
  );
  const labels = series.map((row) => bucketLabel(row.start, bucket));
  const column = (name) => series.map((row) => row[name]);
  const charts = $("[data-activity-charts]");
  await drawChart(charts, "runs", {
    title: "Runs",
    labels,
    stacked: true,
    datasets: [
      { label: "Completed", data: column("completed") },
      { label: "Failed", data: column("failed") },
      { label: "Cancelled", data: column("cancelled") },
    ],
  });
  await drawChart(charts, "tokens", {
    type: "line",
    title: "Tokens",
    labels,
    datasets: [
      { label: "Prompt tokens", data: column("input_tokens") },
      { label: "Output tokens", data: column("output_tokens") },
    ],
  });
  await drawChart(charts, "credits", {
    title: "Credits",
    labels,
    datasets: [
      { label: "Spent", data: column("credits_spent") },
      { label: "Earned", data: column("credits_earned") },
    ],
  });
  await drawChart(charts, "xp", {
    type: "line",
    title: "XP and skill",
    labels,
    datasets: [
      { label: "XP (cumulative)", data: column("xp_cumulative") },
      { label: "Skill points", data: column("skill"), axis: "y2" },
    ],
  });
  const models = insights.by_model || [];
  await drawChart(charts, "models", {
    type: "doughnut",
    title: "Models used",
    labelHeader: "Model",
    labels: models.map((row) => row.model),
    datasets: [{ label: "Runs", data: models.map((row) => row.runs) }],
  });
  const challenges = insights.challenges || [];
  if (challenges.length) {
    const starts = [...new Set(challenges.flatMap((c) => c.progress.map((p) => p.start)))].sort();
    await drawChart(charts, "scores", {
      type: "line",
      title: "Best score per challenge",
      labels: starts.map((start) => bucketLabel(start, bucket)),
      yMax: 1000,
      datasets: challenges.slice(0, 8).map((c) => {
        const best = new Map(c.progress.map((p) => [p.start, p.best_score]));
        return { label: c.title, data: starts.map((start) => best.get(start) ?? null) };
      }),
    });
  }
  renderCalendar(insights.calendar || [], insights.streak || {});
  $("[data-challenge-progress] tbody").replaceChildren(
    ...(challenges.length
      ? challenges.map((c) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: `/challenges/${c.slug}/`, text: c.title })),
            h("td", { class: "num", text: formatNumber(c.attempts) }),
            h("td", { class: "num", text: formatNumber(c.passed) }),
            h("td", { class: "num", text: formatNumber(c.best_score) }),
          ),
        )
      : [h("tr", {}, h("td", { colspan: "4", class: "muted", text: "No attempts in this range." }))]),
  );
}

function renderCalendar(days, streak) {
  const active = days.filter((day) => day.active).length;
  $("[data-streak-summary]").textContent = `${active} active day${active === 1 ? "" : "s"} of ${days.length} · streak ${streak.current ?? 0} (best ${streak.best ?? 0})`;
  $("[data-streak-calendar]").replaceChildren(
    ...days.map((day) =>
      h("li", {
        class: day.active ? "day active" : "day",
        title: `${day.date}: ${day.runs} run${day.runs === 1 ? "" : "s"}, ${day.xp} XP`,
        "aria-label": `${day.date}: ${day.active ? "active" : "no activity"}`,
        dataset: { date: day.date },
      }),
    ),
  );
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
avatarUrl = user.avatar_url || null;
window.addEventListener("pc:avatar", (event) => {
  avatarUrl = event.detail.avatar_url;
  showAvatar();
});
showVerification(user);
async function refresh() {
  const results = await Promise.allSettled([loadProfile(user), loadBadges(), loadLedgers(), loadActivity()]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) showError(null, failed.reason);
}
await Promise.all([
  refresh(),
  setUpApiKeys().catch((error) => showError(null, error)),
  setUpSocialLinks().catch((error) => showError(null, error)),
]);
let timer = null;
window.addEventListener("pc:game", () => {
  clearTimeout(timer);
  timer = setTimeout(refresh, 400);
});
document.body.dataset.profileReady = "true";
