// Template variables: `{{ name }}` placeholders found in content, and typed forms built from specs.
import { h } from "./dom.js";

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
export const SPEC_TYPES = ["text", "long-text", "number", "enum"];

/** Variable names in order of first use. */
export function parseVariables(content) {
  const seen = new Set();
  for (const match of String(content || "").matchAll(PLACEHOLDER)) seen.add(match[1]);
  return [...seen];
}

/** The specs stored with a template, as a name → spec object (the API may send a list or a map). */
export function specsByName(template) {
  const raw = template.variable_specs ?? template.specs ?? template.variables_spec ?? {};
  const byName = {};
  if (Array.isArray(raw)) {
    for (const spec of raw) if (spec && spec.name) byName[spec.name] = spec;
  } else if (raw && typeof raw === "object") {
    Object.assign(byName, raw);
  }
  for (const variable of template.variables || []) {
    if (variable && typeof variable === "object" && variable.name) {
      byName[variable.name] = { ...variable, ...(byName[variable.name] || {}) };
    }
  }
  return byName;
}

/** Every variable of a template with its (defaulted) spec. */
export function templateVariables(template) {
  const names = (template.variables || []).map((v) => (typeof v === "string" ? v : v.name)).filter(Boolean);
  const fromContent = names.length ? names : parseVariables(template.content);
  const specs = specsByName(template);
  return fromContent.map((name) => normaliseSpec(name, specs[name]));
}

export function normaliseSpec(name, spec = {}) {
  const type = SPEC_TYPES.includes(spec.type) ? spec.type : "text";
  return {
    name,
    label: spec.label || name.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase()),
    help: spec.help || "",
    type,
    choices: Array.isArray(spec.choices) ? spec.choices : [],
    default: spec.default ?? "",
    required: spec.required !== false,
  };
}

/** Form controls for the variables (`prefix` keeps ids unique on the page). */
export function buildVariableForm(container, variables, prefix = "var") {
  container.replaceChildren();
  if (!variables.length) {
    container.append(h("p", { class: "muted", text: "This template has no variables." }));
    return;
  }
  for (const spec of variables) {
    const id = `${prefix}-${spec.name}`;
    const common = { id, name: spec.name, "data-variable": spec.name, required: spec.required };
    let control;
    if (spec.type === "long-text") {
      control = h("textarea", { ...common, rows: 3 });
      control.value = spec.default ?? "";
    } else if (spec.type === "number") {
      control = h("input", { ...common, type: "number", step: "any", value: spec.default ?? "" });
    } else if (spec.type === "enum") {
      control = h(
        "select",
        common,
        spec.required ? null : h("option", { value: "", text: "—" }),
        spec.choices.map((choice) => h("option", { value: String(choice), text: String(choice) })),
      );
      if (spec.default !== "") control.value = String(spec.default);
    } else {
      control = h("input", { ...common, type: "text", value: spec.default ?? "" });
    }
    if (spec.help) control.setAttribute("aria-describedby", `${id}-help`);
    container.append(
      h(
        "div",
        { class: "field" },
        h("label", { for: id }, spec.label, spec.required ? h("span", { class: "required", "aria-hidden": "true", text: " *" }) : null),
        control,
        spec.help ? h("p", { class: "field-hint", id: `${id}-help`, text: spec.help }) : null,
        h("p", { class: "field-error", "data-error-for": spec.name }),
      ),
    );
  }
}

/** Values from the generated form as strings (the server checks their types); returns {values, errors}. */
export function readVariableForm(container, variables) {
  const values = {};
  const errors = {};
  for (const spec of variables) {
    const control = container.querySelector(`[data-variable="${CSS.escape(spec.name)}"]`);
    const raw = control ? control.value : "";
    if (raw === "" || raw === undefined) {
      if (spec.required) errors[spec.name] = "This variable is required.";
      continue;
    }
    if (spec.type === "number") {
      if (!Number.isFinite(Number(raw))) errors[spec.name] = "Enter a number.";
      else values[spec.name] = String(raw).trim();
    } else {
      values[spec.name] = raw;
    }
  }
  return { values, errors };
}
