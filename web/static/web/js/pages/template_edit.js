import { api } from "../api.js";
import { boot } from "../app.js";
import { $, $$, clearErrors, h, showError } from "../dom.js";
import { SPEC_TYPES, scanVariables, specsByName } from "../variables.js";

const id = document.body.dataset.templateId || "";
const form = $("[data-template-form]");
const specList = $("[data-spec-list]");
// The API field that carries the per-variable specs (kept as the template answered it when editing).
let specsField = "variable_specs";
const specs = {};

function specEditor(name) {
  const spec = specs[name] || {};
  const prefix = `spec-${name}`;
  const type = h(
    "select",
    { id: `${prefix}-type`, "data-spec": "type" },
    SPEC_TYPES.map((value) => h("option", { value, text: value })),
  );
  type.value = SPEC_TYPES.includes(spec.type) ? spec.type : "text";
  const choices = h("input", {
    id: `${prefix}-choices`,
    "data-spec": "choices",
    placeholder: "formal, friendly",
    value: (spec.choices || []).join(", "),
  });
  const choicesField = h("div", { class: "field" }, h("label", { for: `${prefix}-choices`, text: "Choices (comma separated)" }), choices);
  choicesField.hidden = type.value !== "enum";
  type.addEventListener("change", () => {
    choicesField.hidden = type.value !== "enum";
  });
  const required = h("input", { id: `${prefix}-required`, type: "checkbox", "data-spec": "required" });
  required.checked = spec.required !== false;
  const node = h(
    "fieldset",
    { class: "spec", "data-spec-for": name },
    h("legend", {}, h("code", { text: name })),
    h(
      "div",
      { class: "field-row" },
      h("div", { class: "field" }, h("label", { for: `${prefix}-label`, text: "Label" }), h("input", { id: `${prefix}-label`, "data-spec": "label", value: spec.label || "" })),
      h("div", { class: "field" }, h("label", { for: `${prefix}-type`, text: "Type" }), type),
    ),
    choicesField,
    h("div", { class: "field" }, h("label", { for: `${prefix}-help`, text: "Help text" }), h("input", { id: `${prefix}-help`, "data-spec": "help", value: spec.help || "" })),
    h(
      "div",
      { class: "field-row" },
      h("div", { class: "field" }, h("label", { for: `${prefix}-default`, text: "Default" }), h("input", { id: `${prefix}-default`, "data-spec": "default", value: spec.default ?? "" })),
      h("div", { class: "field checkbox" }, h("label", {}, required, " Required")),
    ),
  );
  node.addEventListener("input", () => {
    specs[name] = readSpec(node);
  });
  return node;
}

function readSpec(node) {
  const get = (key) => $(`[data-spec="${key}"]`, node);
  const spec = { type: get("type").value, required: get("required").checked };
  const label = get("label").value.trim();
  const help = get("help").value.trim();
  const fallback = get("default").value;
  if (label) spec.label = label;
  if (help) spec.help = help;
  if (spec.type === "enum") {
    spec.choices = get("choices")
      .value.split(",")
      .map((choice) => choice.trim())
      .filter(Boolean);
  }
  if (fallback !== "") spec.default = spec.type === "number" && Number.isFinite(Number(fallback)) ? Number(fallback) : fallback;
  return spec;
}

/** Keep one spec editor per variable in the content, in order, keeping what was typed. */
function syncVariables() {
  const { names, problem } = scanVariables(form.elements.content.value);
  const problemBox = $("[data-content-problem]");
  problemBox.textContent = problem;
  problemBox.hidden = !problem;
  const existing = new Map($$("[data-spec-for]", specList).map((node) => [node.dataset.specFor, node]));
  for (const [name, node] of existing) {
    specs[name] = readSpec(node);
    if (!names.includes(name)) node.remove();
  }
  for (const name of names) specList.append(existing.get(name) || specEditor(name));
  $("[data-variable-count]").textContent = String(names.length);
  $("[data-no-variables]").hidden = names.length > 0;
}

function collectSpecs() {
  const result = {};
  for (const node of $$("[data-spec-for]", specList)) result[node.dataset.specFor] = readSpec(node);
  return result;
}

async function loadCategories() {
  try {
    const answer = await api("categories/", { query: { page_size: 100 } });
    for (const category of Array.isArray(answer) ? answer : answer.results || []) {
      $("#t-category").append(h("option", { value: category.slug, text: category.name }));
    }
  } catch {
    // Saving without a category still works.
  }
}

async function loadTemplate() {
  const template = await api(`templates/${id}/`);
  for (const key of ["title", "description", "content", "difficulty", "visibility"]) {
    if (template[key] !== undefined) form.elements[key].value = template[key];
  }
  const category = typeof template.category === "object" && template.category ? template.category.slug : template.category;
  form.elements.category.value = category || "";
  form.elements.tags.value = (template.tags || []).map((tag) => (typeof tag === "object" ? tag.name || tag.slug : tag)).join(", ");
  if (template.specs !== undefined && template.variable_specs === undefined) specsField = "specs";
  Object.assign(specs, specsByName(template));
  syncVariables();
}

form.elements.content.addEventListener("input", syncVariables);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const body = {
    title: form.elements.title.value.trim(),
    description: form.elements.description.value.trim(),
    content: form.elements.content.value,
    difficulty: form.elements.difficulty.value,
    visibility: form.elements.visibility.value,
    category: form.elements.category.value || null,
    tags: form.elements.tags.value
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean),
    [specsField]: collectSpecs(),
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const saved = await api(id ? `templates/${id}/` : "templates/", { method: id ? "PATCH" : "POST", body });
    window.location.assign(`/library/${saved.id}/`);
  } catch (error) {
    if (error.fields && error.fields[specsField] && specsField !== "variable_specs") {
      error.fields.variable_specs = error.fields[specsField];
    }
    showError(form, error);
    button.disabled = false;
  }
});

await boot();
await loadCategories();
if (id) {
  try {
    await loadTemplate();
  } catch (error) {
    showError(form, error);
  }
}
syncVariables();
document.body.dataset.editorReady = "true";
