// Charts of the insights documents, drawn with Chart.js (web/static/vendor/chartjs, loaded on first
// use). Every chart comes with a table of the same numbers for screen readers and keyboard users.
import { h } from "./dom.js";

const CHART_JS = new URL("../../vendor/chartjs/chart.umd.min.js", import.meta.url).href;
// Colour-blind-safe (Okabe–Ito), in a fixed order so that one series keeps its colour across charts.
// The colours are app.css's --chart-1…8 (lighter where the dark theme needs it); these are the fallback.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

let loading = null;

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The current theme's chart colours, read from app.css's variables. */
export function chartColours() {
  return {
    palette: PALETTE.map((fallback, i) => cssVar(`--chart-${i + 1}`, fallback)),
    text: cssVar("--muted", "#545b6b"),
    grid: cssVar("--chart-grid", "rgba(0, 0, 0, 0.1)"),
    surface: cssVar("--panel", "#ffffff"),
  };
}

// Each chart carries its colours in its options (Chart.js does not re-read its defaults on update).
// Assignments only: on a drawn chart, `options` is Chart.js's resolver, which stores what is set.
function paintOptions(options, scaleIds, { text, grid }) {
  options.color = text;
  options.plugins.legend.labels.color = text;
  for (const id of scaleIds) {
    const scale = options.scales[id];
    scale.ticks.color = text;
    scale.grid.color = grid;
    scale.border.color = grid;
  }
}

function paintDatasets(type, labels, datasets, { palette, surface }) {
  const round = type === "doughnut";
  datasets.forEach((d, i) => {
    const own = palette[i % palette.length];
    d.backgroundColor = round ? labels.map((_, j) => palette[j % palette.length]) : own;
    d.borderColor = round ? surface : own;
  });
}

// A theme change (the header's picker, or the system's when following it) repaints every chart.
window.addEventListener("themechange", () => {
  const Chart = window.Chart;
  if (!Chart) return;
  const colours = chartColours();
  for (const chart of Object.values(Chart.instances)) {
    paintDatasets(chart.config.type, chart.data.labels, chart.data.datasets, colours);
    paintOptions(chart.options, Object.keys(chart.config.options.scales || {}), colours);
    chart.update("none");
  }
});

/** Chart.js, loaded once as a classic script (its UMD build sets window.Chart). */
export function chartLibrary() {
  if (window.Chart) return Promise.resolve(window.Chart);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = CHART_JS;
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error("The chart library did not load."));
    document.head.append(script);
  });
  return loading;
}

function tableOf(name, labels, datasets, { labelHeader }) {
  return h(
    "table",
    { class: "ledger chart-table", "data-chart-table": name },
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: labelHeader }), ...datasets.map((d) => h("th", { scope: "col", class: "num", text: d.label })))),
    h(
      "tbody",
      {},
      ...labels.map((label, i) =>
        h("tr", {}, h("th", { scope: "row", text: String(label) }), ...datasets.map((d) => h("td", { class: "num", text: d.data[i] == null ? "–" : String(d.data[i]) }))),
      ),
    ),
  );
}

/**
 * Draw (or redraw) the chart `name` in `container`: `type` is "bar", "line" or "doughnut"; each
 * dataset is {label, data}; `stacked` stacks bars. Returns the Chart instance.
 */
export async function drawChart(container, name, { type = "bar", title, labels, datasets, stacked = false, labelHeader = "Period", yMax }) {
  const Chart = await chartLibrary();
  let figure = container.querySelector(`[data-chart="${name}"]`);
  if (!figure) {
    figure = h("figure", { class: "chart", "data-chart": name });
    container.append(figure);
  }
  const canvas = h("canvas", { role: "img", "aria-label": `${title} (the table below has the numbers)` });
  const previous = figure.querySelector("canvas");
  if (previous) Chart.getChart(previous)?.destroy();
  figure.replaceChildren(
    h("figcaption", { text: title }),
    h("div", { class: "chart-canvas" }, canvas),
    h("details", { class: "chart-details" }, h("summary", { text: `${title}: table` }), tableOf(name, labels, datasets, { labelHeader })),
  );
  const round = type === "doughnut";
  const colours = chartColours();
  const series = datasets.map((d) => ({
    label: d.label,
    data: d.data,
    borderWidth: type === "line" ? 2 : 1,
    pointRadius: type === "line" ? 2 : undefined,
    spanGaps: true,
    yAxisID: d.axis || "y",
  }));
  paintDatasets(type, labels, series, colours);
  const scales = round
    ? {}
    : {
        x: { stacked, ticks: {}, grid: {}, border: {} },
        y: { stacked, beginAtZero: true, max: yMax, ticks: { precision: 0 }, grid: {}, border: {} },
        ...(datasets.some((d) => d.axis === "y2") ? { y2: { position: "right", beginAtZero: true, ticks: {}, grid: { drawOnChartArea: false }, border: {} } } : {}),
      };
  const options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { display: round || datasets.length > 1, position: "bottom", labels: {} } },
    scales,
  };
  paintOptions(options, Object.keys(scales), colours);
  return new Chart(canvas, { type, data: { labels, datasets: series }, options });
}

/** A short label for a bucket's first day: "12 Mar" for days and weeks, "Mar 2026" for months. */
export function bucketLabel(start, bucket) {
  const day = new Date(`${start}T00:00:00Z`);
  const options = bucket === "month" ? { month: "short", year: "numeric" } : { day: "numeric", month: "short" };
  return day.toLocaleDateString("en-GB", { ...options, timeZone: "UTC" });
}

/** The window controls (range and bucket) bound to `reload(query)`. */
export function windowControls(container, reload, { days = 30, bucket = "day" } = {}) {
  const range = h("select", { name: "days", "aria-label": "Range" }, ...[7, 30, 90, 366].map((n) => h("option", { value: String(n), text: n === 366 ? "Last year" : `Last ${n} days` })));
  const step = h("select", { name: "bucket", "aria-label": "Group by" }, ...["day", "week", "month"].map((b) => h("option", { value: b, text: `By ${b}` })));
  range.value = String(days);
  step.value = bucket;
  const changed = () => reload({ days: Number(range.value), bucket: step.value });
  range.addEventListener("change", changed);
  step.addEventListener("change", changed);
  container.replaceChildren(range, step);
  return { days: Number(range.value), bucket: step.value };
}
