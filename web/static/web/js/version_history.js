// A template's saved versions: the list, one version's view, a side-by-side diff of any two, and
// (for the owner) restoring an old version as the next one.
import { api, apiList } from "./api.js";
import { $, formatDate, h, showError } from "./dom.js";
import { diffPrompts } from "./prompt_diff.js";
import { toast } from "./toast.js";

/**
 * The two columns of a diff: the older text with its removals marked, the newer with its additions.
 * Each side keeps the text the other side shares, so the columns read as whole prompts.
 */
export function sideBySide(before, after) {
  const ops = diffPrompts(before, after);
  const left = [];
  const right = [];
  let removed = 0;
  let added = 0;
  for (const item of ops) {
    if (item.op === "same") {
      left.push(document.createTextNode(item.text));
      right.push(document.createTextNode(item.text));
    } else if (item.op === "del") {
      removed += 1;
      left.push(h("del", { class: "diff-del", text: item.text }));
    } else {
      added += 1;
      right.push(h("ins", { class: "diff-ins", text: item.text }));
    }
  }
  return { left, right, removed, added };
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/**
 * Wire the history section of a template page. `getTemplate()` is the template as last loaded,
 * `isOwner()` whether the viewer owns it, `onRestored(template)` receives the template after a restore.
 */
export function versionHistory({ root, templateId, getTemplate, isOwner, onRestored }) {
  const list = $("[data-t-versions]", root);
  const view = $("[data-version-view]", root);
  const diff = $("[data-version-diff]", root);
  const form = $("[data-compare-form]", root);
  const cache = new Map();
  let versions = [];
  let shown = null;

  async function version(number) {
    if (!cache.has(number)) cache.set(number, await api(`templates/${templateId}/versions/${number}/`));
    return cache.get(number);
  }

  function options(select, selected) {
    select.replaceChildren(
      ...versions.map((v) =>
        h("option", { value: v.number, selected: v.number === selected, text: `Version ${v.number}${v.number === getTemplate().version ? " (current)" : ""}` }),
      ),
    );
  }

  function renderList() {
    const current = getTemplate().version;
    list.replaceChildren(
      ...[...versions].reverse().map((v) =>
        h(
          "li",
          { value: v.number, "data-version": v.number },
          h(
            "span",
            { class: "version-label" },
            h("strong", { text: `v${v.number}` }),
            v.number === current ? h("span", { class: "chip", text: "current" }) : null,
            h("span", { class: "muted", text: ` ${formatDate(v.created_at)}` }),
            v.title ? h("span", { class: "version-name", text: v.title }) : null,
          ),
          h("button", {
            class: "btn btn-small",
            type: "button",
            "data-view-version": v.number,
            "aria-label": `View version ${v.number}`,
            text: "View",
            onclick: () => showVersion(v.number),
          }),
        ),
      ),
    );
    options(form.elements.from, versions.length > 1 ? versions[versions.length - 2].number : current);
    options(form.elements.to, current);
    form.hidden = versions.length < 2;
  }

  async function load() {
    try {
      versions = (await apiList(`templates/${templateId}/versions/`, { query: { page_size: 100 } })).sort(
        (a, b) => a.number - b.number,
      );
      for (const v of versions) cache.set(v.number, v);
      renderList();
    } catch {
      list.replaceChildren(h("li", { class: "muted", text: "Versions unavailable." }));
      form.hidden = true;
    }
  }

  async function showVersion(number) {
    try {
      const v = await version(number);
      shown = v;
      diff.hidden = true;
      const current = getTemplate().version;
      $("[data-version-title]", view).textContent = `Version ${v.number}${v.number === current ? " (current)" : ""}: ${v.title}`;
      $("[data-version-meta]", view).textContent = [
        formatDate(v.created_at),
        v.author && v.author.username ? `saved by ${v.author.username}` : "",
      ]
        .filter(Boolean)
        .join(" · ");
      $("[data-version-content]", view).textContent = v.content;
      const names = (v.variables || []).map((item) => item.name);
      $("[data-version-variables]", view).textContent = names.length ? `Variables: ${names.join(", ")}` : "No variables.";
      const restore = $("[data-restore]", view);
      restore.hidden = !isOwner() || v.number === current;
      restore.disabled = false;
      view.hidden = false;
      view.focus();
    } catch (error) {
      showError(null, error);
    }
  }

  async function compare(from, to) {
    try {
      const [older, newer] = await Promise.all([version(from), version(to)]);
      const columns = sideBySide(older.content, newer.content);
      view.hidden = true;
      $("[data-diff-title]", diff).textContent = `Version ${from} → version ${to}`;
      $("[data-diff-left-title]", diff).textContent = `Version ${from}`;
      $("[data-diff-right-title]", diff).textContent = `Version ${to}`;
      const titleChanged = older.title !== newer.title;
      $("[data-diff-left-name]", diff).replaceChildren(
        "Title: ",
        titleChanged ? h("del", { class: "diff-del", text: older.title }) : older.title,
      );
      $("[data-diff-right-name]", diff).replaceChildren(
        "Title: ",
        titleChanged ? h("ins", { class: "diff-ins", text: newer.title }) : newer.title,
      );
      $("[data-diff-left]", diff).replaceChildren(...columns.left);
      $("[data-diff-right]", diff).replaceChildren(...columns.right);
      const same = !columns.removed && !columns.added && !titleChanged;
      $("[data-diff-summary]", diff).textContent = same
        ? "These versions have the same title and prompt."
        : `Prompt: ${plural(columns.removed, "removal")}, ${plural(columns.added, "addition")}${titleChanged ? "; the title changed" : ""}. Removed text is struck through on the left, added text underlined on the right.`;
      diff.hidden = false;
      diff.focus();
    } catch (error) {
      showError(null, error);
    }
  }

  async function restore(button) {
    const number = shown.number;
    const before = getTemplate().version;
    button.disabled = true;
    try {
      const template = await api(`templates/${templateId}/versions/${number}/restore/`, { method: "POST" });
      view.hidden = true;
      onRestored(template);
      await load();
      toast({
        title: "Version restored",
        body:
          template.version > before
            ? `Version ${number} is now version ${template.version}.`
            : `The template already matches version ${number}.`,
      });
      $("#history-title", root).focus();
    } catch (error) {
      showError(null, error);
      button.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const from = Number(form.elements.from.value);
    const to = Number(form.elements.to.value);
    compare(Math.min(from, to), Math.max(from, to));
  });
  $("[data-restore]", view).addEventListener("click", (event) => restore(event.currentTarget));
  const closer = (panel, focusTarget) => () => {
    panel.hidden = true;
    focusTarget().focus();
  };
  $("[data-version-close]", view).addEventListener(
    "click",
    closer(view, () => $(`[data-view-version="${shown?.number}"]`, list) || $("#history-title", root)),
  );
  $("[data-diff-close]", diff).addEventListener("click", closer(diff, () => form.elements.from));
  return { load, showVersion, compare };
}
