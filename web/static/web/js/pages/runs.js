// Run history: filters in the address (a reload or a shared link keeps them), pages, and a pick of two to compare.
import { api } from "../api.js";
import { boot } from "../app.js";
import { $, $$, clearErrors, formatCredits, formatDate, formatNumber, h, showError } from "../dom.js";

const form = $("[data-run-filters]");
const rows = $("[data-run-rows]");
const pager = $("[data-pager]");
const compareLink = $("[data-compare-link]");
const FIELDS = ["search", "model", "status", "template", "created_after", "created_before"];
const PAGE_SIZE = 20;
const picked = [];
let page = 1;

function readAddress() {
  const params = new URLSearchParams(window.location.search);
  for (const name of FIELDS) {
    const value = params.get(name);
    if (!value) continue;
    const field = form.elements[name];
    if (field.tagName === "SELECT" && ![...field.options].some((option) => option.value === value)) {
      field.append(h("option", { value, text: value }));
    }
    field.value = value;
  }
  page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const compare = params.get("compare");
  if (compare) picked.push(compare);
}

function filters() {
  const result = {};
  for (const name of FIELDS) {
    const value = String(form.elements[name].value || "").trim();
    if (value) result[name] = value;
  }
  return result;
}

function writeAddress() {
  const params = new URLSearchParams(filters());
  if (page > 1) params.set("page", String(page));
  const search = params.toString();
  window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
}

function syncCompare() {
  const ready = picked.length === 2;
  compareLink.hidden = !ready;
  compareLink.setAttribute("aria-disabled", String(!ready));
  if (ready) compareLink.href = `/runs/compare/?a=${encodeURIComponent(picked[0])}&b=${encodeURIComponent(picked[1])}`;
  else compareLink.removeAttribute("href");
  $("[data-compare-hint]").textContent = ready
    ? "Two runs picked."
    : picked.length === 1
      ? "Tick one more run to compare."
      : "Tick two runs to compare them.";
  for (const box of $$("[data-compare-pick]", rows)) box.disabled = ready && !box.checked;
}

function togglePick(id, checked) {
  const at = picked.indexOf(id);
  if (checked && at === -1 && picked.length < 2) picked.push(id);
  if (!checked && at !== -1) picked.splice(at, 1);
  syncCompare();
}

function row(run) {
  const prompt = (run.prompt || "").replace(/\s+/g, " ").trim();
  const title = prompt.length > 120 ? `${prompt.slice(0, 117)}…` : prompt || "(empty prompt)";
  const boxId = `pick-${run.id}`;
  return h(
    "li",
    { class: "run-row panel", "data-run-row": run.id },
    h(
      "div",
      { class: "run-row-pick" },
      h("input", {
        type: "checkbox",
        id: boxId,
        "data-compare-pick": run.id,
        checked: picked.includes(run.id),
        onchange: (event) => togglePick(run.id, event.target.checked),
      }),
      h("label", { for: boxId, class: "visually-hidden", text: `Compare run of ${formatDate(run.created_at)}` }),
    ),
    h(
      "div",
      { class: "run-row-main" },
      h("a", { class: "run-row-title", href: `/runs/${run.id}/`, text: title }),
      h(
        "p",
        { class: "run-row-meta muted" },
        h("span", { text: run.model }),
        h("span", { text: formatDate(run.created_at) }),
        h("span", { text: `${formatNumber(run.input_tokens)} / ${formatNumber(run.output_tokens)} tokens` }),
        h("span", { text: formatCredits(run.cost_credits) }),
      ),
    ),
    h("span", { class: `status status-${run.status}`, text: run.status }),
  );
}

async function load() {
  clearErrors(form);
  rows.setAttribute("aria-busy", "true");
  writeAddress();
  try {
    const answer = await api("llm/runs/", { query: { ...filters(), page, page_size: PAGE_SIZE } });
    const results = answer.results || [];
    rows.replaceChildren(...results.map(row));
    if (!results.length) rows.replaceChildren(h("li", { class: "muted", text: "No runs match these filters." }));
    $("[data-result-count]").textContent = `${answer.count} run${answer.count === 1 ? "" : "s"}`;
    pager.hidden = !answer.next && !answer.previous;
    $("[data-prev]").disabled = !answer.previous;
    $("[data-next]").disabled = !answer.next;
    $("[data-page-label]").textContent = `Page ${page} of ${Math.max(1, Math.ceil(answer.count / PAGE_SIZE))}`;
  } catch (error) {
    rows.replaceChildren();
    $("[data-result-count]").textContent = "";
    pager.hidden = true;
    if (error.status === 404 && page > 1) {
      page = 1; // the page is gone (fewer runs now): start over
      await load();
      return;
    }
    showError(form, error);
  } finally {
    rows.setAttribute("aria-busy", "false");
    syncCompare();
    document.body.dataset.runsLoaded = String(Number(document.body.dataset.runsLoaded || 0) + 1);
  }
}

async function loadOptions() {
  const [models, templates] = await Promise.allSettled([
    api("llm/models/"),
    api("templates/", { query: { page_size: 100, ordering: "-usage_count" } }),
  ]);
  if (models.status === "fulfilled") {
    const list = Array.isArray(models.value) ? models.value : models.value.results || [];
    for (const model of list) form.elements.model.append(h("option", { value: model.id, text: model.display_name || model.id }));
  }
  if (templates.status === "fulfilled") {
    for (const template of templates.value.results || []) {
      form.elements.template.append(h("option", { value: template.id, text: template.title }));
    }
  }
}

await boot();
await loadOptions();
readAddress();
form.addEventListener("submit", (event) => {
  event.preventDefault();
  page = 1;
  load();
});
form.addEventListener("reset", () => {
  setTimeout(() => {
    page = 1;
    load();
  });
});
$("[data-prev]").addEventListener("click", () => {
  page = Math.max(1, page - 1);
  load();
});
$("[data-next]").addEventListener("click", () => {
  page += 1;
  load();
});
await load();
document.body.dataset.runsReady = "true";
