// A challenge's insights for its author, added to the challenge page: attempts and pass rate over
// time, the cases failed most (hidden ones too: only the author gets this document), tokens vs par.
import { api } from "./api.js";
import { formatNumber, h } from "./dom.js";
import { bucketLabel, drawChart, windowControls } from "./insight_charts.js";

let query = { days: 30, bucket: "day" };

/** Add the author's panel after the page's body; nothing for anyone else (the API answers 404). */
export async function loadAuthorInsights(slug, host) {
  let insights;
  try {
    insights = await api(`insights/challenges/${slug}/`, { query });
  } catch {
    return;
  }
  let panel = host.querySelector("[data-c-insights]");
  if (!panel) {
    panel = h(
      "section",
      { class: "panel activity", "aria-labelledby": "c-insights-title", "data-c-insights": "" },
      h("div", { class: "panel-head" }, h("h2", { id: "c-insights-title" }, "Your challenge's results ", h("span", { class: "muted", text: "(only you see this)" })), h("div", { class: "chart-controls", "data-c-controls": "" })),
      h("div", { class: "profile-stats", "data-c-stats": "" }),
      h("div", { class: "chart-grid", "data-c-charts": "" }),
      h("h3", { text: "Cases failed most" }),
      h("table", { class: "ledger", "data-c-cases": "" }, h("thead", {}, h("tr", {}, ...["Case", "Visibility", "Samples", "Failed", "Fail rate"].map((t, i) => h("th", { scope: "col", class: i > 1 ? "num" : undefined, text: t })))), h("tbody")),
    );
    host.append(panel);
    query = windowControls(panel.querySelector("[data-c-controls]"), (next) => {
      query = next;
      loadAuthorInsights(slug, host);
    }, query);
  }
  const { totals, series } = insights;
  const bucket = insights.window.bucket;
  const stat = (label, value) => h("div", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: "stat-value", text: value }));
  const percent = (rate) => (rate == null ? "–" : `${Math.round(rate * 100)}%`);
  panel.querySelector("[data-c-stats]").replaceChildren(
    stat("Attempts", formatNumber(totals.attempts)),
    stat("Learners", formatNumber(totals.users)),
    stat("Pass rate", percent(totals.pass_rate)),
    stat("Median passing prompt", totals.median_pass_prompt_tokens == null ? "–" : `${formatNumber(totals.median_pass_prompt_tokens)} tokens`),
    stat("Par", `${formatNumber(totals.par_tokens)} tokens`),
  );
  const labels = series.map((row) => bucketLabel(row.start, bucket));
  const charts = panel.querySelector("[data-c-charts]");
  await drawChart(charts, "attempts", {
    title: "Attempts and pass rate",
    labels,
    datasets: [
      { label: "Attempts", data: series.map((row) => row.attempts) },
      { label: "Passed", data: series.map((row) => row.passed) },
      { label: "Pass rate (%)", data: series.map((row) => (row.pass_rate == null ? null : Math.round(row.pass_rate * 100))), axis: "y2" },
    ],
  });
  const cases = insights.failing_cases.slice(0, 10);
  await drawChart(charts, "cases", {
    title: "Failed samples per case",
    labelHeader: "Case",
    labels: cases.map((c) => `${c.case_id}${c.hidden ? " (hidden)" : ""}`),
    datasets: [{ label: "Failed", data: cases.map((c) => c.failed) }],
  });
  panel.querySelector("[data-c-cases] tbody").replaceChildren(
    ...insights.failing_cases.map((c) =>
      h(
        "tr",
        { "data-case": c.case_id },
        h("td", { text: c.case_id }),
        h("td", { text: c.hidden ? "hidden" : "public" }),
        h("td", { class: "num", text: formatNumber(c.samples) }),
        h("td", { class: "num", text: formatNumber(c.failed) }),
        h("td", { class: "num", text: percent(c.fail_rate) }),
      ),
    ),
  );
}
