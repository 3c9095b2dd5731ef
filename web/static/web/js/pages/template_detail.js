import { api } from "../api.js";
import { boot } from "../app.js";
import { bucketLabel, drawChart, windowControls } from "../insight_charts.js";
import { currentUser } from "../auth.js";
import { $, clearErrors, formatNumber, h, showError } from "../dom.js";
import { toast } from "../toast.js";
import { exportTemplate } from "../template_transfer.js";
import { templateVariables } from "../variables.js";
import { versionHistory } from "../version_history.js";

const id = document.body.dataset.templateId;
const root = $("[data-template]");
let template = null;
let favourite = false;

function ownerOf(t) {
  if (!t.owner) return null;
  return typeof t.owner === "object" ? t.owner : { id: t.owner };
}

function render() {
  const owner = ownerOf(template);
  const me = currentUser();
  const mine = owner && me && String(owner.id) === String(me.id);
  $("[data-t-title]").textContent = template.title;
  document.title = `${template.title} · PromptCraft`;
  const category = typeof template.category === "object" && template.category ? template.category.name : template.category;
  $("[data-t-meta]").textContent = [
    template.difficulty,
    category,
    template.visibility,
    `version ${template.version}`,
    owner && owner.username ? `by ${owner.username}` : "",
    template.forked_from ? "forked" : "",
  ]
    .filter(Boolean)
    .join(" · ");
  $("[data-t-description]").textContent = template.description || "";
  $("[data-t-content]").textContent = template.content;
  $("[data-t-run]").href = `/?template=${template.id}`;
  const edit = $("[data-t-edit]");
  edit.href = `/library/${template.id}/edit/`;
  edit.hidden = !mine;
  $("[data-rate-form]").hidden = Boolean(mine);
  const variables = templateVariables(template);
  $("[data-t-variables]").replaceChildren(
    ...variables.map((v) =>
      h(
        "li",
        {},
        h("code", { text: v.name }),
        ` — ${v.type}${v.required ? ", required" : ""}`,
        v.choices.length ? ` (${v.choices.join(", ")})` : "",
        v.help ? h("span", { class: "muted", text: ` · ${v.help}` }) : null,
      ),
    ),
  );
  if (!variables.length) $("[data-t-variables]").replaceChildren(h("li", { class: "muted", text: "None" }));
  $("[data-t-rating]").textContent = template.rating_count
    ? `★ ${Number(template.rating_avg).toFixed(2)} from ${template.rating_count} rating${template.rating_count === 1 ? "" : "s"}`
    : "Not rated yet";
  favourite = Boolean(template.is_favorited ?? template.favorited ?? favourite);
  if (template.my_rating) {
    const star = document.getElementById(`star${template.my_rating}`);
    if (star) star.checked = true;
  }
  renderFavourite();
}

function renderFavourite() {
  const button = $("[data-t-favorite]");
  button.setAttribute("aria-pressed", String(favourite));
  button.textContent = `${favourite ? "★ Favourited" : "☆ Favourite"} (${template.favorites_count ?? 0})`;
}

function isOwner() {
  const owner = template && ownerOf(template);
  const me = currentUser();
  return Boolean(owner && me && String(owner.id) === String(me.id));
}

const versionPanel = versionHistory({
  root: $("[data-history]"),
  templateId: id,
  getTemplate: () => template,
  isOwner,
  onRestored: (restored) => {
    template = { ...restored, is_favorited: favourite };
    render();
  },
});

let usageQuery = { days: 30, bucket: "day" };

async function loadInsights() {
  const controls = $("[data-t-controls]");
  if (!controls.childElementCount) {
    usageQuery = windowControls(controls, (query) => {
      usageQuery = query;
      loadInsights().catch(() => {});
    }, usageQuery);
  }
  const insights = await api(`insights/templates/${id}/`, { query: usageQuery });
  const totals = insights.totals || {};
  const series = insights.series || [];
  const bucket = insights.window?.bucket || "day";
  const stat = (label, value) =>
    h("div", { class: "stat" }, h("span", { class: "stat-label", text: label }), h("span", { class: "stat-value", text: value }));
  $("[data-t-usage]").replaceChildren(
    stat("Runs", formatNumber(totals.runs)),
    stat("Learners", formatNumber(totals.runners)),
    stat("Forks", formatNumber(totals.forks_count)),
    stat("Favourites", formatNumber(totals.favorites_count)),
    stat("Average cost", totals.avg_cost == null ? "–" : `${formatNumber(totals.avg_cost, 2)} credits`),
  );
  const labels = series.map((row) => bucketLabel(row.start, bucket));
  const column = (name) => series.map((row) => row[name]);
  const charts = $("[data-t-charts]");
  $("[data-t-insights]").hidden = false;
  await drawChart(charts, "uses", {
    type: "line",
    title: "Uses and learners",
    labels,
    datasets: [
      { label: "Runs", data: column("runs") },
      { label: "Learners", data: column("runners") },
    ],
  });
  await drawChart(charts, "ratings", {
    title: "Ratings",
    labels,
    datasets: [
      { label: "Ratings given", data: column("ratings") },
      { label: "Average score", data: column("rating_avg"), axis: "y2" },
      { label: "Forks", data: column("forks") },
    ],
  });
  const models = insights.by_model || [];
  await drawChart(charts, "models", {
    type: "doughnut",
    title: "Model mix",
    labelHeader: "Model",
    labels: models.map((row) => row.model),
    datasets: [{ label: "Runs", data: models.map((row) => row.runs) }],
  });
  await drawChart(charts, "cost", {
    type: "line",
    title: "Average cost per run (credits)",
    labels,
    datasets: [{ label: "Credits per run", data: column("avg_cost") }],
  });
}

async function load() {
  try {
    template = await api(`templates/${id}/`);
  } catch (error) {
    showError(null, error);
    return;
  }
  root.hidden = false;
  render();
  versionPanel.load();
  const owner = ownerOf(template);
  if (owner && currentUser() && String(owner.id) === String(currentUser().id)) loadInsights().catch(() => {});
}

$("[data-t-favorite]").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await api(`templates/${id}/favorite/`, { method: favourite ? "DELETE" : "POST" });
    favourite = !favourite;
    template = await api(`templates/${id}/`);
    template.is_favorited = favourite;
    render();
  } catch (error) {
    showError(null, error);
  } finally {
    button.disabled = false;
  }
});

$("[data-t-fork]").addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  try {
    const fork = await api(`templates/${id}/fork/`, { method: "POST" });
    toast({ title: "Forked", body: "Your private copy is ready to edit." });
    window.location.assign(`/library/${fork.id}/edit/`);
  } catch (error) {
    showError(null, error);
    event.currentTarget.disabled = false;
  }
});

$("[data-rate-form]").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const score = Number(new FormData(form).get("score"));
  if (!score) {
    $('[data-error-for="score"]', form).textContent = "Pick 1 to 5 stars.";
    return;
  }
  try {
    await api(`templates/${id}/rate/`, { method: "POST", body: { score } });
    template = await api(`templates/${id}/`);
    render();
    toast({ title: "Thanks for rating", body: `You gave ${score} star${score === 1 ? "" : "s"}.` });
  } catch (error) {
    showError(form, error);
  }
});

$("[data-t-export]").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await exportTemplate(template);
    toast({ title: "Exported", body: "The template and its versions are in the downloaded JSON file." });
  } catch (error) {
    showError(null, error);
  } finally {
    button.disabled = false;
  }
});

await boot();
await load();
if (new URLSearchParams(window.location.search).has("imported") && template) {
  toast({ title: "Imported", body: `“${template.title}” is now a private template of yours.` });
  window.history.replaceState(null, "", window.location.pathname);
}
document.body.dataset.detailReady = "true";
