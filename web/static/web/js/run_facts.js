// What a finished run shows (its parameters and its numbers), shared by the run pages.
import { formatCredits, formatMs, formatNumber, h } from "./dom.js";

/** [label, value] pairs of the parameters a run used (effective values; system shown on its own). */
export function runParams(run) {
  const params = run.params || {};
  const rows = [
    ["Model", run.model],
    ["Temperature", params.temperature ?? "model default"],
    ["Max tokens", params.max_tokens ?? "model default"],
  ];
  if (run.template) rows.push(["Template version", run.template_version ?? "–"]);
  return rows;
}

/** [label, value] pairs of what a run used and took. */
export function runStats(run) {
  return [
    ["Status", run.status],
    ["Tokens in / out", `${formatNumber(run.input_tokens)} / ${formatNumber(run.output_tokens)}`],
    ["Cost", formatCredits(run.cost_credits)],
    ["First token", formatMs(run.ttft_ms)],
    ["Total time", formatMs(run.latency_ms)],
  ];
}

/** The pairs as the children of a <dl class="stats">. */
export function factNodes(rows) {
  return rows.map(([label, value]) => h("div", {}, h("dt", { text: label }), h("dd", { text: String(value) })));
}

export function runError(run) {
  return run.error ? `${run.error.code}: ${run.error.message}` : "";
}
