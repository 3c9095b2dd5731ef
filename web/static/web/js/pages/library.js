import { api } from "../api.js";
import { boot } from "../app.js";
import { currentUser } from "../auth.js";
import { confirmDialog } from "../confirm_dialog.js";
import { deleteWithUndo, isPending } from "../deferred_delete.js";
import { $, h, showError } from "../dom.js";
import { FileProblem, importTemplate, readTemplateFile } from "../template_transfer.js";
import { toast } from "../toast.js";

const filters = $("[data-filters]");
const list = $("[data-template-list]");
const pager = $("[data-pager]");
let page = 1;
let timer = null;
let total = 0;

function query() {
  const data = new FormData(filters);
  const result = { page, page_size: 12 };
  for (const [key, value] of data.entries()) if (value) result[key] = String(value).trim();
  return result;
}

function card(template) {
  const rating = template.rating_count ? `★ ${Number(template.rating_avg).toFixed(1)} (${template.rating_count})` : "Not rated";
  const owner = template.owner && typeof template.owner === "object" ? template.owner.username : "";
  return h(
    "li",
    { "data-template-card": template.id },
    h(
      "article",
      { class: "panel card" },
      h("h2", {}, h("a", { href: `/library/${template.id}/`, text: template.title })),
      h("p", { text: template.description || "" }),
      h(
        "ul",
        { class: "chips", "aria-label": "Labels" },
        h("li", { class: "chip chip-level", text: template.difficulty }),
        template.category ? h("li", { class: "chip", text: categoryName(template.category) }) : null,
        (template.tags || []).slice(0, 4).map((tag) => h("li", { class: "chip", text: `#${tagName(tag)}` })),
      ),
      h(
        "div",
        { class: "card-meta" },
        h("span", { text: rating }),
        h("span", { text: `♥ ${template.favorites_count ?? 0}` }),
        h("span", { text: `▶ ${template.usage_count ?? 0} runs` }),
        owner ? h("span", { text: `by ${owner}` }) : null,
      ),
      isMine(template)
        ? h(
            "div",
            { class: "card-actions" },
            h("button", {
              class: "btn btn-danger btn-small",
              type: "button",
              "data-delete": template.id,
              "aria-label": `Delete ${template.title}`,
              text: "Delete",
              onclick: () => askDelete(template),
            }),
          )
        : null,
    ),
  );
}

function isMine(template) {
  const me = currentUser();
  const owner = template.owner && typeof template.owner === "object" ? template.owner.id : template.owner;
  return Boolean(me && owner && String(owner) === String(me.id));
}

function showCount() {
  $("[data-result-count]").textContent = `${total} template${total === 1 ? "" : "s"}`;
}

function cardOf(id) {
  return list.querySelector(`[data-template-card="${CSS.escape(id)}"]`);
}

/** Where focus goes when a card leaves: the next card's link, else the previous one's, else the list's heading. */
function focusNear(item) {
  const cards = [...list.querySelectorAll("[data-template-card]")].filter((node) => !node.hidden || node === item);
  const index = cards.indexOf(item);
  const neighbour = cards.slice(index + 1).concat(cards.slice(0, index).reverse()).find((node) => !node.hidden);
  const target = neighbour ? neighbour.querySelector("h2 a") : $("main h1");
  if (target === $("main h1")) target.setAttribute("tabindex", "-1");
  target.focus();
}

async function askDelete(template) {
  const confirmed = await confirmDialog({
    title: `Delete “${template.title}”?`,
    body: "Its versions, ratings and favourites are deleted with it; forks of it are kept. You can undo for a few seconds.",
    confirmLabel: "Delete template",
    danger: true,
  });
  if (!confirmed) return;
  const item = cardOf(template.id);
  try {
    await deleteWithUndo({
      path: `templates/${template.id}/`,
      title: "Template deleted",
      body: `“${template.title}”`,
      hide: () => {
        item.hidden = true;
        total -= 1;
        showCount();
      },
      restore: (error) => {
        item.hidden = false;
        total += 1;
        showCount();
        if (error) {
          toast({ title: "Not deleted", body: `“${template.title}” could not be deleted. Try again.`, kind: "error" });
        }
        item.querySelector("[data-delete]").focus();
      },
      done: ({ hadFocus }) => {
        if (hadFocus || document.activeElement === document.body) focusNear(item);
        item.remove();
      },
    });
  } catch (error) {
    showError(null, error);
  }
}

function categoryName(category) {
  return typeof category === "object" && category ? category.name || category.slug : category;
}

function tagName(tag) {
  return typeof tag === "object" && tag ? tag.name || tag.slug : tag;
}

async function load() {
  list.setAttribute("aria-busy", "true");
  $("[data-form-error]").hidden = true;
  try {
    const answer = await api("templates/", { query: query() });
    // A template whose undo window is still open is not shown (its DELETE is on its way).
    const results = (answer.results || []).filter((t) => !isPending(`templates/${t.id}/`));
    total = answer.count - ((answer.results || []).length - results.length);
    list.replaceChildren(...results.map(card));
    if (!results.length) list.replaceChildren(h("li", { class: "muted", text: "No templates match these filters." }));
    showCount();
    pager.hidden = !answer.next && !answer.previous;
    $("[data-prev]").disabled = !answer.previous;
    $("[data-next]").disabled = !answer.next;
    $("[data-page-label]").textContent = `Page ${page}`;
  } catch (error) {
    list.replaceChildren();
    showError(null, error);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

async function loadCategories() {
  try {
    const answer = await api("categories/", { query: { page_size: 100 } });
    for (const category of Array.isArray(answer) ? answer : answer.results || []) {
      $("#f-category").append(h("option", { value: category.slug, text: category.name }));
    }
  } catch {
    // Filtering by category is just unavailable.
  }
}

function reload({ debounce = false } = {}) {
  page = 1;
  clearTimeout(timer);
  timer = setTimeout(load, debounce ? 300 : 0);
}

await boot();
filters.addEventListener("input", (event) => reload({ debounce: event.target.name === "search" || event.target.name === "tag" }));
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  reload();
});
$("[data-prev]").addEventListener("click", () => {
  page = Math.max(1, page - 1);
  load();
});
$("[data-next]").addEventListener("click", () => {
  page += 1;
  load();
});
const importInput = $("[data-import-file]");
importInput.addEventListener("change", async () => {
  const file = importInput.files[0];
  $("[data-form-error]").hidden = true;
  if (!file) return;
  try {
    const created = await importTemplate(await readTemplateFile(file));
    window.location.assign(`/library/${created.id}/?imported=1`);
  } catch (error) {
    if (error instanceof FileProblem) {
      const banner = $("[data-form-error]");
      banner.textContent = error.message;
      banner.hidden = false;
    } else {
      showError(null, error);
      const banner = $("[data-form-error]");
      banner.textContent = `Could not import “${file.name}”. ${banner.textContent}`;
    }
    importInput.focus();
  } finally {
    importInput.value = "";
  }
});

await Promise.all([loadCategories(), load()]);
document.body.dataset.libraryReady = "true";
