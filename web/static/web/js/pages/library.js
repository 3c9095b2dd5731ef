import { api } from "../api.js";
import { boot } from "../app.js";
import { $, h, showError } from "../dom.js";

const filters = $("[data-filters]");
const list = $("[data-template-list]");
const pager = $("[data-pager]");
let page = 1;
let timer = null;

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
    ),
  );
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
    const results = answer.results || [];
    list.replaceChildren(...results.map(card));
    if (!results.length) list.replaceChildren(h("li", { class: "muted", text: "No templates match these filters." }));
    $("[data-result-count]").textContent = `${answer.count} template${answer.count === 1 ? "" : "s"}`;
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
await Promise.all([loadCategories(), load()]);
document.body.dataset.libraryReady = "true";
