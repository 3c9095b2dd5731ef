// The staff dashboard: platform-wide activity from insights/platform/.
import { api } from "../api.js";
import { boot } from "../app.js";
import { $, formatMs, formatNumber, h, showError } from "../dom.js";
import { bucketLabel, drawChart, windowControls } from "../insight_charts.js";

let query = { days: 30, bucket: "day" };
const percent = (rate) => (rate == null ? "–" : `${Math.round(rate * 100)}%`);
const stat = (label, value) => h("div", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: "stat-value", text: value }));
const cell = (text, num = false) => h("td", { class: num ? "num" : undefined, text });
const rowsOr = (rows, columns, render) => (rows.length ? rows.map(render) : [h("tr", {}, h("td", { colspan: String(columns), class: "muted", text: "None in this range." }))]);

async function load() {
  const insights = await api("insights/platform/", { query });
  const { totals, series } = insights;
  const bucket = insights.window.bucket;
  $("[data-platform]").hidden = false;
  $("[data-platform-stats]").replaceChildren(
    stat("DAU", formatNumber(totals.dau)),
    stat("WAU", formatNumber(totals.wau)),
    stat("MAU", formatNumber(totals.mau)),
    stat("Runs", formatNumber(totals.runs)),
    stat("Success rate", percent(totals.success_rate)),
    stat("Output tokens", formatNumber(totals.output_tokens)),
    stat("Credits charged", formatNumber(totals.cost_credits)),
    stat("New sign-ups", formatNumber(totals.new_users)),
    stat("Active on day one", formatNumber(totals.new_users_active_first_day)),
  );
  const labels = series.map((row) => bucketLabel(row.start, bucket));
  const column = (name) => series.map((row) => row[name]);
  const charts = $("[data-platform-charts]");
  await drawChart(charts, "active", { type: "line", title: "Active users", labels, datasets: [{ label: "Active users", data: column("active_users") }] });
  await drawChart(charts, "providers", {
    title: "Runs by provider",
    labels,
    stacked: true,
    datasets: insights.providers.map((name) => ({ label: name, data: series.map((row) => row.by_provider[name] ?? 0) })),
  });
  await drawChart(charts, "tokens", {
    type: "line",
    title: "Tokens and credits",
    labels,
    datasets: [
      { label: "Prompt tokens", data: column("input_tokens") },
      { label: "Output tokens", data: column("output_tokens") },
      { label: "Credits", data: column("cost_credits"), axis: "y2" },
    ],
  });
  await drawChart(charts, "models", {
    type: "doughnut",
    title: "Runs by model",
    labelHeader: "Model",
    labels: insights.by_model.map((row) => row.model),
    datasets: [{ label: "Runs", data: insights.by_model.map((row) => row.runs) }],
  });
  await drawChart(charts, "latency", {
    title: "Latency by provider (ms)",
    labelHeader: "Provider",
    labels: insights.latency_by_provider.map((row) => row.provider),
    datasets: [
      { label: "TTFT p50", data: insights.latency_by_provider.map((row) => row.p50_ttft_ms) },
      { label: "TTFT p95", data: insights.latency_by_provider.map((row) => row.p95_ttft_ms) },
      { label: "Latency p50", data: insights.latency_by_provider.map((row) => row.p50_latency_ms) },
      { label: "Latency p95", data: insights.latency_by_provider.map((row) => row.p95_latency_ms) },
    ],
  });
  await drawChart(charts, "signups", {
    title: "Sign-ups and their first day",
    labels,
    datasets: [
      { label: "New users", data: column("new_users") },
      { label: "Ran on day one", data: column("new_users_active") },
    ],
  });
  $("[data-platform-latency] tbody").replaceChildren(
    ...rowsOr(insights.latency_by_provider, 5, (row) =>
      h("tr", {}, cell(row.provider), cell(formatMs(row.p50_ttft_ms), true), cell(formatMs(row.p95_ttft_ms), true), cell(formatMs(row.p50_latency_ms), true), cell(formatMs(row.p95_latency_ms), true)),
    ),
  );
  $("[data-platform-errors] tbody").replaceChildren(...rowsOr(insights.errors, 3, (row) => h("tr", {}, cell(row.error_code), cell(row.provider), cell(formatNumber(row.runs), true))));
  $("[data-platform-templates] tbody").replaceChildren(
    ...rowsOr(insights.top_templates, 3, (row) => h("tr", {}, h("td", {}, h("a", { href: `/library/${row.id}/`, text: row.title })), cell(formatNumber(row.runs), true), cell(formatNumber(row.runners), true))),
  );
  $("[data-platform-challenges] tbody").replaceChildren(
    ...rowsOr(insights.top_challenges, 3, (row) => h("tr", {}, h("td", {}, h("a", { href: `/challenges/${row.slug}/`, text: row.title })), cell(formatNumber(row.attempts), true), cell(percent(row.pass_rate), true))),
  );
}

await boot();
query = windowControls($("[data-platform-controls]"), (next) => {
  query = next;
  load().catch((error) => showError(null, error));
}, query);
try {
  await load();
} catch (error) {
  showError(null, error);
}
document.body.dataset.platformReady = "true";
