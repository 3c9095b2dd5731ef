// Template variables: `{{ name }}` placeholders found in content, and typed forms built from specs.
import { h } from "./dom.js";

// The same grammar as the server's parser (prompts/variables.py): `{{ name }}`, spaces allowed inside.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/y;
export const SPEC_TYPES = ["text", "long-text", "number", "enum"];

/** {names (in order of first use), problem (a sentence, or "" when every `{{` opens a valid placeholder)}. */
export function scanVariables(content) {
  const text = String(content || "");
  const names = [];
  let position = 0;
  let start;
  while ((start = text.indexOf("{{", position)) !== -1) {
    PLACEHOLDER.lastIndex = start;
    const match = PLACEHOLDER.exec(text);
    if (!match) return { names, problem: placeholderProblem(text, start) };
    if (!names.includes(match[1])) names.push(match[1]);
    position = PLACEHOLDER.lastIndex;
  }
  return { names, problem: "" };
}

function placeholderProblem(text, start) {
  const before = text.slice(0, start);
  const line = before.split("\n").length;
  const column = start - before.lastIndexOf("\n");
  const end = text.indexOf("}}", start + 2);
  const nextOpen = text.indexOf("{{", start + 2);
  if (end === -1 || (nextOpen !== -1 && nextOpen < end)) return `Unclosed “{{” at line ${line}, column ${column}.`;
  const snippet = text.slice(start, end + 2);
  return (
    `Malformed placeholder “${snippet.length > 60 ? snippet.slice(0, 57) + "..." : snippet}” at line ${line}, ` +
    `column ${column}: a variable name is letters, digits and underscores and does not start with a digit.`
  );
}

/** Variable names in order of first use (up to the first malformed placeholder). */
export function parseVariables(content) {
  return scanVariables(content).names;
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
