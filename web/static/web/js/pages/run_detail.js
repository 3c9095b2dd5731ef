// One run: its prompt and parameters, its output and numbers; open it in the playground to run it again.
import { api } from "../api.js";
import { boot } from "../app.js";
import { $, formatDate, h, showError } from "../dom.js";
import { factNodes, runError, runParams, runStats } from "../run_facts.js";

const root = $("[data-run-detail]");
const runId = document.body.dataset.runId;

function show(run) {
  $("[data-run-title]").textContent = `Run on ${run.model}`;
  $("[data-run-meta]").replaceChildren(
    h("span", { class: `status status-${run.status}`, text: run.status }),
    ` ${formatDate(run.created_at)}`,
    run.finished_at ? ` · finished ${formatDate(run.finished_at)}` : "",
  );
  const template = $("[data-run-template]");
  if (run.template) {
    template.replaceChildren(
      "From template ",
      h("a", { href: `/library/${run.template}/`, text: "this template" }),
      run.template_version ? ` (version ${run.template_version})` : "",
      Object.keys(run.variables || {}).length ? ` with ${Object.keys(run.variables).join(", ")}` : "",
    );
    template.hidden = false;
  }
  if (run.system) {
    $("[data-system-title]").hidden = false;
    $("[data-run-system]").hidden = false;
    $("[data-run-system]").textContent = run.system;
  }
  $("[data-run-prompt]").textContent = run.prompt;
  $("[data-run-output]").textContent = run.output || (run.status === "running" ? "(still running)" : "(no output)");
  $("[data-run-params]").replaceChildren(...factNodes(runParams(run)));
  $("[data-run-stats]").replaceChildren(...factNodes(runStats(run)));
  const error = $("[data-run-error]");
  error.textContent = runError(run);
  error.hidden = !run.error;
}

await boot();
try {
  show(await api(`llm/runs/${runId}/`));
} catch (error) {
  root.hidden = true;
  showError(null, error);
} finally {
  root.setAttribute("aria-busy", "false");
  document.body.dataset.runReady = "true";
}
