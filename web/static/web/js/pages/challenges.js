// The catalogue: the server renders the public challenges; this adds the learner's solved marks, bests
// and own challenges, and filters the cards in place (the filters live in the URL's query).
import { apiList } from "../api.js";
import { boot } from "../app.js";
import { $, $$, formatNumber, h } from "../dom.js";

const form = $("[data-challenge-filters]");
const FILTERS = ["search", "track", "technique", "difficulty", "solved"];
const LEVELS = { beginner: "Beginner", intermediate: "Intermediate", advanced: "Advanced", expert: "Expert" };

function readUrl() {
  const query = new URLSearchParams(window.location.search);
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = query.get(name) || "";
    if (field.tagName === "SELECT" && value && ![...field.options].some((option) => option.value === value)) continue;
    field.value = value;
  }
}

function writeUrl() {
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) query.set(name, value);
  }
  const search = query.toString();
  window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
}

function matches(card, wanted) {
  const data = card.dataset;
  if (wanted.track && data.track !== wanted.track) return false;
  if (wanted.technique && data.technique !== wanted.technique) return false;
  if (wanted.difficulty && data.difficulty !== wanted.difficulty) return false;
  if (wanted.solved && (data.solved === "true") !== (wanted.solved === "true")) return false;
  const words = wanted.search.toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((word) => data.searchText.includes(word));
}

function applyFilters() {
  const wanted = Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value.trim()]));
  if ($("[data-solved-filter]").hidden) wanted.solved = ""; // visitors have nothing solved to filter on
  let shown = 0;
  for (const section of $$("[data-track]", $("[data-tracks]")).filter((node) => node.tagName === "SECTION")) {
    let inSection = 0;
    for (const card of $$("[data-challenge-card]", section)) {
      const visible = matches(card, wanted);
      card.hidden = !visible;
      if (visible) inSection += 1;
    }
    section.hidden = inSection === 0;
    shown += inSection;
  }
  const empty = $("[data-no-match]");
  empty.textContent = $$("[data-challenge-card]").length ? "No challenge matches these filters." : "No challenges yet.";
  empty.hidden = shown > 0;
  writeUrl();
}

function markCard(card, item) {
  card.dataset.solved = String(Boolean(item.solved));
  const mark = $("[data-solved-mark]", card);
  mark.hidden = !item.solved;
  if (item.solved) {
    mark.replaceChildren(h("span", { "aria-hidden": "true", text: "✓ " }), `Solved · your best ${formatNumber(item.best_score)}`);
  }
  const solvers = $("[data-solvers]", card);
  if (solvers) solvers.textContent = `${formatNumber(item.solvers_count)} solver${item.solvers_count === 1 ? "" : "s"}`;
}

/** A card for a challenge the page did not render (the learner's own, still private). */
function ownCard(item) {
  const card = h(
    "li",
    {
      class: "panel card challenge-card",
      dataset: {
        challengeCard: "",
        slug: item.slug,
        track: item.track,
        technique: item.technique,
        difficulty: item.difficulty,
        searchText: `${item.title} ${item.summary} ${item.technique}`.toLowerCase(),
      },
    },
    h("h3", { class: "card-title" }, h("a", { href: `/challenges/${encodeURIComponent(item.slug)}/`, text: item.title })),
    h("p", { text: item.summary }),
    h(
      "ul",
      { class: "chips" },
      h("li", { class: "chip", text: item.technique }),
      h("li", { class: `chip chip-level chip-${item.difficulty}`, text: LEVELS[item.difficulty] || item.difficulty }),
      h("li", { class: "chip chip-private", text: item.visibility === "public" ? "Yours" : "Private" }),
    ),
    h("p", { class: "solved-mark", "data-solved-mark": "", hidden: true }),
    h(
      "div",
      { class: "card-meta" },
      h("span", { text: `Par ${item.par_tokens} tokens` }),
      h("span", { text: `${item.public_cases} public + ${item.hidden_cases} hidden` }),
      h("span", { "data-solvers": "" }),
    ),
  );
  return card;
}

function ownSection() {
  let section = $("section[data-track='__mine']");
  if (!section) {
    section = h(
      "section",
      { class: "track", dataset: { track: "__mine" }, "aria-labelledby": "track-mine" },
      h("h2", { id: "track-mine", class: "track-title", text: "Your challenges" }),
      h("ul", { class: "card-grid" }),
    );
    $("[data-tracks]").append(section);
  }
  return $("ul", section);
}

function showProgress(items) {
  const bySlug = new Map(items.map((item) => [item.slug, item]));
  let solved = 0;
  for (const section of $$("section[data-track]")) {
    const cards = $$("[data-challenge-card]", section);
    const done = cards.filter((card) => bySlug.get(card.dataset.slug)?.solved).length;
    solved += done;
    const badge = $("[data-track-progress]", section);
    if (badge) {
      badge.textContent = `${done} / ${cards.length} solved`;
      badge.hidden = false;
    }
  }
  const summary = $("[data-progress-summary]");
  summary.textContent = `You have solved ${solved} of ${$$("[data-challenge-card]").length} challenges.`;
  summary.hidden = false;
}

async function addLearnerMarks() {
  let items;
  try {
    items = await apiList("challenges/", { query: { page_size: 100 }, maxPages: 10 });
  } catch {
    return; // the public catalogue still stands on its own
  }
  const cards = new Map($$("[data-challenge-card]").map((card) => [card.dataset.slug, card]));
  for (const item of items) {
    let card = cards.get(item.slug);
    if (!card && item.author && item.visibility !== "public") {
      card = ownCard(item);
      ownSection().append(card);
    }
    if (card) markCard(card, item);
  }
  for (const card of cards.values()) if (!card.dataset.solved) card.dataset.solved = "false";
  $("[data-solved-filter]").hidden = false;
  showProgress(items);
}

readUrl();
form.addEventListener("input", applyFilters);
form.addEventListener("change", applyFilters);
form.addEventListener("submit", (event) => event.preventDefault());
applyFilters();
const user = await boot();
if (user) {
  await addLearnerMarks();
  applyFilters(); // the solved filter applies only now
}
document.body.dataset.challengesReady = "true";
