// Two runs side by side: their parameters and numbers, and what changed in the prompt and the output.
import { api } from "../api.js";
import { boot } from "../app.js";
import { $, formatDate, h, showError } from "../dom.js";
import { diffNodes, diffPrompts } from "../prompt_diff.js";
import { factNodes, runError, runParams, runStats } from "../run_facts.js";

const root = $("[data-compare]");

function fullPrompt(run) {
  return run.system ? `[system] ${run.system}\n\n${run.prompt}` : run.prompt || "";
}

function column(run, label) {
  const error = runError(run);
  return h(
    "article",
    { class: "panel compare-column", "data-compare-run": run.id },
    h("h2", {}, `Run ${label}: `, h("a", { href: `/runs/${run.id}/`, text: run.model })),
    h("p", { class: "muted", text: formatDate(run.created_at) }),
    h("dl", { class: "stats" }, ...factNodes([...runParams(run), ...runStats(run)])),
    error ? h("p", { class: "pane-error", role: "alert", text: error }) : null,
    h("h3", { text: "Output" }),
    h("pre", { class: "run-text", "data-compare-output": label, text: run.output || "(no output)" }),
    h("p", {}, h("a", { class: "btn btn-ghost", href: `/?run=${run.id}`, text: "Open in playground" })),
  );
}

await boot();
const params = new URLSearchParams(window.location.search);
const ids = [params.get("a"), params.get("b")];
try {
  if (!ids[0] || !ids[1]) throw new Error("missing");
  const [a, b] = await Promise.all(ids.map((id) => api(`llm/runs/${encodeURIComponent(id)}/`)));
  $("[data-compare-columns]").replaceChildren(column(a, "A"), column(b, "B"));
  $("[data-prompt-diff]").replaceChildren(...diffNodes(diffPrompts(fullPrompt(a), fullPrompt(b))));
  $("[data-output-diff]").replaceChildren(...diffNodes(diffPrompts(a.output || "", b.output || "")));
} catch (error) {
  root.hidden = true;
  if (error.message === "missing") {
    const banner = $("[data-form-error]");
    banner.replaceChildren("Pick two runs to compare on ", h("a", { href: "/runs/", text: "the runs page" }), ".");
    banner.hidden = false;
  } else {
    showError(null, error);
  }
} finally {
  root.setAttribute("aria-busy", "false");
  document.body.dataset.compareReady = "true";
}
