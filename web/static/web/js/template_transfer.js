// Template files: export a template as a JSON document, import one back as a private copy.
import { api } from "./api.js";

// Far above any real export (500 versions of 20,000 characters is the API's own ceiling).
const MAX_FILE_BYTES = 12 * 1024 * 1024;

export class FileProblem extends Error {}

/** A file name for a template's export: its title in lowercase words. */
export function exportFileName(title) {
  const slug = String(title || "template")
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${slug || "template"}.promptcraft.json`;
}

/** Download the template's export document as a .json file. */
export async function exportTemplate(template) {
  const document_ = await api(`templates/${template.id}/export/`);
  const blob = new Blob([JSON.stringify(document_, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = exportFileName(template.title);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return document_;
}

/** The JSON in a chosen file; FileProblem with a sentence when it is not a JSON document. */
export async function readTemplateFile(file) {
  if (!file) throw new FileProblem("Choose a .json file to import.");
  if (file.size > MAX_FILE_BYTES) throw new FileProblem(`“${file.name}” is too large to be a template export.`);
  let text;
  try {
    text = await file.text();
  } catch {
    throw new FileProblem(`“${file.name}” could not be read.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FileProblem(`“${file.name}” is not valid JSON. Choose a file exported from a template page.`);
  }
}

/** Create a private template of yours from an export document (the API validates it). */
export function importTemplate(document_) {
  return api("templates/import/", { method: "POST", body: document_ });
}
