import { api } from "../api.js";
import { boot } from "../app.js";
import { $, $$, clearErrors, formatDate, h, showError } from "../dom.js";
import { apiErrorMessage } from "../errors.js";
import { PlaygroundClient } from "../playground_client.js";
import { RunPane } from "../run_pane.js";
import { buildVariableForm, readVariableForm, templateVariables } from "../variables.js";

const form = $("[data-run-form]");
const outputs = $("[data-outputs]");
const runButton = $("[data-run]");
const stopButton = $("[data-stop]");
const banner = $("[data-connection-banner]");
const models = new Map();
let templateVars = [];
let client = null;

function modelPrice(model) {
  const price = model.credits_per_1k_tokens ?? model.credits_per_1k_output ?? model.credits_per_1k_output_tokens;
  return price === undefined || price === null ? "" : ` · ${price} cr/1K`;
}

function modelName(id) {
  const model = models.get(id);
  return model ? model.display_name || model.name || id : id;
}

function modelLabel(model) {
  const priceText = modelPrice(model);
  return `${model.display_name || model.name || model.id}${priceText}${model.available ? "" : " (unavailable)"}`;
}

function showModelInfo(select) {
  const info = $(`[data-model-info="${select.id === "model-a" ? "a" : "b"}"]`);
  const model = models.get(select.value);
  if (!model) {
    info.textContent = "";
    return;
  }
  const parts = [model.provider ? `Provider: ${model.provider}` : ""];
  const input = model.credits_per_1k_input ?? model.credits_per_1k_input_tokens;
  const output = model.credits_per_1k_output ?? model.credits_per_1k_output_tokens;
  if (input !== undefined && output !== undefined) parts.push(`${input} in / ${output} out credits per 1K tokens`);
  if (model.description) parts.push(model.description);
  if (!model.available) parts.push("Not available right now.");
  info.textContent = parts.filter(Boolean).join(" · ");
}

/** Empty parameter fields leave each chosen model its own default, shown as the placeholder. */
function showDefaults() {
  const chosen = [form.elements.model.value, form.elements.model_b.value].map((id) => models.get(id)).filter(Boolean);
  for (const [field, key] of [[form.elements.temperature, "temperature"], [form.elements.max_tokens, "max_tokens"]]) {
    const defaults = [...new Set(chosen.map((model) => model.default_params?.[key]).filter((v) => v !== undefined))];
    field.placeholder = defaults.length ? `${defaults.join(" / ")} (default)` : "model default";
  }
}

async function loadModels() {
  let list;
  try {
    const answer = await api("llm/models/");
    list = Array.isArray(answer) ? answer : answer.results || [];
  } catch (error) {
    showError(form, error);
    return;
  }
  for (const model of list) models.set(model.id, model);
  for (const select of $$("[data-model-select]")) {
    for (const model of list) {
      select.append(h("option", { value: model.id, disabled: !model.available, text: modelLabel(model) }));
    }
    select.addEventListener("change", () => {
      showModelInfo(select);
      showDefaults();
    });
  }
  const first = list.find((model) => model.available && model.provider === "local") || list.find((m) => m.available);
  if (first) $("#model-a").value = first.id;
  showModelInfo($("#model-a"));
  showDefaults();
}

async function loadTemplates(preselect) {
  const picker = $("#template-picker");
  try {
    const page = await api("templates/", { query: { page_size: 100, ordering: "-usage_count" } });
    for (const template of page.results || []) {
      picker.append(h("option", { value: template.id, text: template.title }));
    }
  } catch (error) {
    showError(form, error);
  }
  if (preselect) {
    if (![...picker.options].some((option) => option.value === preselect)) {
      picker.append(h("option", { value: preselect, text: "Selected template" }));
    }
    picker.value = preselect;
    form.elements.source.value = "template";
    syncSource();
    await selectTemplate(preselect);
  }
}

async function selectTemplate(id) {
  const container = $("[data-variable-form]");
  const description = $("[data-template-description]");
  templateVars = [];
  container.replaceChildren();
  description.textContent = "";
  if (!id) return;
  try {
    const template = await api(`templates/${id}/`);
    templateVars = templateVariables(template);
    description.textContent = template.description || "";
    buildVariableForm(container, templateVars);
    const option = [...$("#template-picker").options].find((o) => o.value === id);
    if (option) option.textContent = template.title;
  } catch (error) {
    showError(form, error);
  }
}

function syncSource() {
  const useTemplate = form.elements.source.value === "template";
  $("[data-free-fields]").hidden = useTemplate;
  $("[data-template-fields]").hidden = !useTemplate;
}

function params() {
  const result = {};
  // Only what the learner typed: an empty field is the model's default, not 0.
  const temperature = form.elements.temperature.value.trim();
  const maxTokens = Number.parseInt(form.elements.max_tokens.value, 10);
  if (temperature !== "" && Number.isFinite(Number(temperature))) result.temperature = Number(temperature);
  if (maxTokens > 0) result.max_tokens = maxTokens;
  const system = form.elements.system.value.trim();
  if (system && form.elements.source.value === "free") result.system = system;
  return result;
}

/** The run.start payload without the model, or null after showing what is missing. */
function payload() {
  if (form.elements.source.value === "template") {
    const templateId = form.elements.template_id.value;
    if (!templateId) {
      showBanner("Choose a template first.");
      return null;
    }
    const { values, errors } = readVariableForm($("[data-variable-form]"), templateVars);
    if (Object.keys(errors).length) {
      for (const [name, text] of Object.entries(errors)) {
        const slot = $(`[data-variable-form] [data-error-for="${CSS.escape(name)}"]`);
        if (slot) slot.textContent = text;
      }
      $(`[data-variable="${CSS.escape(Object.keys(errors)[0])}"]`).focus();
      return null;
    }
    return { template_id: templateId, variables: values, params: params() };
  }
  const prompt = form.elements.prompt.value.trim();
  if (!prompt) {
    $('[data-error-for="prompt"]', form).textContent = "Write a prompt first.";
    form.elements.prompt.focus();
    return null;
  }
  return { prompt, params: params() };
}

function showBanner(text) {
  const box = $("[data-form-error]", form);
  box.textContent = text;
  box.hidden = !text;
}

function syncButtons() {
  const running = client && client.running;
  runButton.disabled = Boolean(running);
  stopButton.disabled = !running;
}

function run() {
  clearErrors(form);
  const chosen = [form.elements.model.value, form.elements.model_b.value].filter(Boolean);
  if (!chosen.length) {
    showBanner("Choose a model.");
    return;
  }
  const base = payload();
  if (!base) return;
  for (const pane of $$("[data-pane]", outputs)) pane.remove();
  for (const pane of [...client.panes]) client.forget(pane);
  outputs.classList.toggle("side-by-side", chosen.length > 1);
  for (const modelId of chosen) {
    const pane = new RunPane(outputs, { model: modelId, modelName: modelName(modelId) });
    client.start(pane, { model: modelId, ...base });
  }
  syncButtons();
}

async function loadRecentRuns() {
  const list = $("[data-recent-runs]");
  try {
    const page = await api("llm/runs/", { query: { page_size: 10 } });
    const runs = Array.isArray(page) ? page : page.results || [];
    list.replaceChildren(
      ...runs.map((item) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "run-item", "data-run-id": item.id, onclick: () => reopen(item) },
            h("span", { class: "run-prompt", text: (item.prompt || "").slice(0, 80) || "(template run)" }),
            h("span", { class: `status status-${item.status}`, text: item.status }),
            h("span", { class: "muted", text: `${modelName(item.model)} · ${formatDate(item.created_at)}` }),
          ),
        ),
      ),
    );
    if (!runs.length) list.replaceChildren(h("li", { class: "muted", text: "No runs yet: your runs appear here." }));
  } catch (error) {
    list.replaceChildren(h("li", { class: "muted", text: apiErrorMessage(error) }));
  }
}

async function reopen(summary) {
  let item = summary;
  try {
    item = await api(`llm/runs/${summary.id}/`);
  } catch {
    // The summary from the list is shown instead.
  }
  for (const pane of $$("[data-pane]", outputs)) pane.remove();
  for (const pane of [...client.panes]) client.forget(pane);
  outputs.classList.remove("side-by-side");
  const pane = new RunPane(outputs, { model: item.model, modelName: modelName(item.model) });
  if (item.status === "running") client.follow(pane, item.id);
  else pane.showRun(item);
  if (item.prompt) {
    form.elements.source.value = "free";
    syncSource();
    form.elements.prompt.value = item.prompt;
  }
  if (models.has(item.model)) {
    form.elements.model.value = item.model;
    showModelInfo(form.elements.model);
    showDefaults();
  }
  pane.output.focus();
}

/**
 * `?run=<id>` (from the run pages): the form filled from one of the user's runs, to run it again.
 * The run is read through the API as any of the user's runs; its text only ever becomes field values.
 */
async function prefillFromRun(runId) {
  let run;
  try {
    run = await api(`llm/runs/${encodeURIComponent(runId)}/`);
  } catch (error) {
    showError(form, error);
    await loadTemplates(null);
    return;
  }
  if (run.template) {
    await loadTemplates(run.template);
    for (const [name, value] of Object.entries(run.variables || {})) {
      const control = $(`[data-variable-form] [data-variable="${CSS.escape(name)}"]`);
      if (control) control.value = String(value);
    }
  } else {
    await loadTemplates(null);
    form.elements.source.value = "free";
    syncSource();
    form.elements.prompt.value = run.prompt || "";
    form.elements.system.value = run.system || "";
  }
  const runParams = run.params || {};
  if (runParams.temperature !== undefined && runParams.temperature !== null) form.elements.temperature.value = runParams.temperature;
  if (runParams.max_tokens) form.elements.max_tokens.value = runParams.max_tokens;
  if (runParams.temperature !== undefined || runParams.max_tokens) $("details.params").open = true;
  if (models.has(run.model)) {
    form.elements.model.value = run.model;
    showModelInfo(form.elements.model);
    showDefaults();
  }
  if (!run.template) form.elements.prompt.focus();
}

async function main() {
  await boot();
  client = new PlaygroundClient();
  client.addEventListener("change", syncButtons);
  client.addEventListener("finished", () => setTimeout(loadRecentRuns, 300));
  client.addEventListener("problem", (event) => showBanner(event.detail));
  client.addEventListener("connection", (event) => {
    banner.hidden = event.detail.up;
    banner.textContent = event.detail.up ? "" : "Connection lost. Reconnecting…";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (!runButton.disabled) run();
    }
  });
  stopButton.addEventListener("click", () => client.cancelAll());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && client.running) client.cancelAll();
  });
  for (const radio of form.elements.source) radio.addEventListener("change", syncSource);
  $("#template-picker").addEventListener("change", (event) => selectTemplate(event.target.value));
  const address = new URLSearchParams(window.location.search);
  const rerun = address.get("run");
  const preselect = rerun ? null : address.get("template");
  await Promise.all([loadModels().then(loadRecentRuns), rerun ? null : loadTemplates(preselect)]);
  if (rerun) await prefillFromRun(rerun);
  document.body.dataset.playgroundReady = "true";
}

main();
