// A challenge page: the prompt editor, graded attempts streaming into the case grid, the score,
// the learner's attempts with a prompt diff, and the live leaderboard.
import { api } from "../api.js";
import { getAccess } from "../auth.js";
import { boot } from "../app.js";
import { AttemptClient } from "../attempt_client.js";
import { CaseGrid } from "../case_grid.js";
import { loadAuthorInsights } from "../challenge_insights.js";
import { ChallengeBoard, boardElements } from "../challenge_board.js";
import { $, $$, clearErrors, formatCredits, formatDate, formatNumber, h } from "../dom.js";
import { apiErrorMessage, runErrorMessage } from "../errors.js";
import { diffNodes, diffPrompts } from "../prompt_diff.js";
import { scanVariables } from "../variables.js";

// Set by bind() once the page body is in the document (rendered with the page, or fetched for an author).
let challenge = null;
let form = null;
let promptField = null;
let submitButton = null;
let stopButton = null;
let statusBadge = null;
const attemptsById = new Map();
let grid = null;
let client = null;
let board = null;
let selected = []; // attempt ids ticked for the diff, oldest tick first
let graded = 0;
let totalSamples = 0;

// --- the prompt editor -------------------------------------------------------------------------

function insertVariable(name) {
  const token = `{{${name}}}`;
  const { selectionStart: start, selectionEnd: end, value } = promptField;
  promptField.value = value.slice(0, start) + token + value.slice(end);
  promptField.focus();
  promptField.setSelectionRange(start + token.length, start + token.length);
  syncVariables();
}

/** Chips show which variables the prompt uses; returns the first problem with the prompt, or "". */
function syncVariables() {
  const { names, problem } = scanVariables(promptField.value);
  for (const chip of $$("[data-variable-chip]", form)) {
    const used = names.includes(chip.dataset.variableChip);
    chip.classList.toggle("used", used);
    chip.setAttribute("aria-pressed", String(used));
  }
  if (problem) return problem;
  const missing = challenge.variables.filter((name) => !names.includes(name));
  const unknown = names.filter((name) => !challenge.variables.includes(name));
  if (unknown.length) return `This challenge has no variable ${unknown.map((n) => `{{${n}}}`).join(", ")}.`;
  if (missing.length) return `Use every variable: ${missing.map((n) => `{{${n}}}`).join(", ")}.`;
  return "";
}

function params() {
  const result = {};
  const temperature = form.elements.temperature.value.trim();
  const maxTokens = Number.parseInt(form.elements.max_tokens.value, 10);
  if (temperature !== "" && Number.isFinite(Number(temperature))) result.temperature = Number(temperature);
  if (maxTokens > 0) result.max_tokens = maxTokens;
  return result;
}

function fieldError(field, text) {
  const slot = $(`[data-error-for="${field}"]`, form);
  if (slot) {
    slot.textContent = text;
    const input = form.elements.namedItem(field);
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    return true;
  }
  return false;
}

function formError(text) {
  const banner = $("[data-form-error]", form);
  banner.textContent = text;
  banner.hidden = !text;
}

// --- attempts ----------------------------------------------------------------------------------

function setStatus(text, state = "") {
  statusBadge.textContent = text;
  statusBadge.dataset.state = state;
}

function syncButtons() {
  const running = Boolean(client && client.running);
  submitButton.disabled = running;
  stopButton.disabled = !running;
  $("[data-results]").setAttribute("aria-busy", String(running));
}

function submit() {
  clearErrors(form);
  const problem = promptField.value.trim() ? syncVariables() : "Write a prompt first.";
  if (problem) {
    fieldError("prompt", problem);
    promptField.focus();
    return;
  }
  const payload = { challenge: challenge.slug, prompt: promptField.value, params: params() };
  if (form.elements.model.value) payload.model = form.elements.model.value;
  const system = form.elements.system.value;
  if (system.trim()) payload.system = system;
  grid.reset();
  grid.queued();
  graded = 0;
  totalSamples = 0;
  $("[data-score-panel]").hidden = true;
  setStatus("Starting…", "running");
  client.start(payload);
  syncButtons();
}

function onStarted(message) {
  grid.assign(message.cases);
  grid.queued();
  totalSamples = message.cases.length * (message.samples || challenge.samples || 1);
  setStatus(`Grading… 0 / ${totalSamples}`, "running");
}

function onCase(message) {
  grid.graded(message);
  graded += 1;
  setStatus(`Grading… ${graded} / ${totalSamples}`, "running");
}

function onEnd(message) {
  grid.ended();
  if (message.type === "attempt.completed") {
    showScore(message);
    setStatus(message.passed ? "Passed" : "Not passed", message.passed ? "passed" : "failed");
  } else if (message.type === "attempt.cancelled") {
    setStatus("Stopped", "cancelled");
  } else if (message.type === "attempt.interrupted") {
    setStatus("Interrupted", "failed");
    formError("The connection dropped, which stops the attempt. Submit it again.");
  } else {
    setStatus("Failed", "failed");
    formError(runErrorMessage(message.error));
  }
  syncButtons();
  loadAttempts();
  loadSummary();
  loadBoard();
}

function onRefused(message) {
  grid.reset();
  setStatus("Not run yet");
  const field = (message.field || "").startsWith("params.") ? "params" : message.field;
  const text = runErrorMessage(message);
  if (!field || !fieldError(field, text)) formError(text);
  syncButtons();
}

/** The score, pass rate and tokens-versus-par meters of a finished attempt (socket frame or REST). */
function showScore(result) {
  const breakdown = result.score_breakdown || {};
  const par = breakdown.par_tokens ?? challenge.par_tokens;
  const tokens = result.prompt_tokens ?? breakdown.prompt_tokens ?? 0;
  const passRate = Number(result.pass_rate) || 0;
  $("[data-score-value]").textContent = formatNumber(result.score);
  const verdict = $("[data-verdict]");
  verdict.textContent = result.passed ? "Passed" : "Not passed";
  verdict.className = `verdict ${result.passed ? "verdict-pass" : "verdict-fail"}`;

  const percent = Math.round(passRate * 100);
  $("[data-pass-meter]").setAttribute("aria-valuenow", String(percent));
  $("[data-pass-fill]").style.width = `${percent}%`;
  const counted = breakdown.total_samples ? `${breakdown.passed_samples} / ${breakdown.total_samples} · ` : "";
  $("[data-pass-text]").textContent = `${counted}${percent}% (needs ${Math.round(challenge.pass_threshold * 100)}%)`;

  // The bar spans twice par, so par sits in the middle.
  const meter = $("[data-tokens-meter]");
  meter.setAttribute("aria-valuenow", String(tokens));
  meter.setAttribute("aria-valuetext", `${tokens} tokens, par ${par}`);
  meter.classList.toggle("over-par", tokens > par);
  $("[data-tokens-fill]").style.width = `${Math.min(100, (tokens / (2 * par)) * 100)}%`;
  const factor = breakdown.length_factor;
  const factorText = factor !== undefined && factor < 1 ? ` · length ×${Number(factor).toFixed(2)}` : "";
  $("[data-tokens-text]").textContent = `${tokens} tokens · par ${par}${factorText}`;

  const notes = [];
  if (result.xp_awarded) notes.push(`+${result.xp_awarded} XP`);
  if (result.best) notes.push("a new personal best");
  if (result.cost_credits !== undefined) notes.push(`cost ${formatCredits(result.cost_credits)}`);
  $("[data-score-notes]").textContent = notes.join(" · ");
  $("[data-score-panel]").hidden = false;
}

// --- the learner's attempts and the diff -------------------------------------------------------

function resultLabel(attempt) {
  if (attempt.status === "running") return ["Running", "running"];
  if (attempt.status === "cancelled") return ["Stopped", "cancelled"];
  if (attempt.status === "failed") return ["Failed", "failed"];
  return attempt.passed ? ["Passed", "completed"] : ["Not passed", "failed"];
}

function attemptRow(attempt) {
  const [label, tone] = resultLabel(attempt);
  const when = formatDate(attempt.created_at);
  return h(
    "tr",
    { dataset: { attemptId: attempt.id } },
    h(
      "td",
      {},
      h("input", {
        type: "checkbox",
        "data-compare": attempt.id,
        "aria-label": `Compare the attempt of ${when}`,
        checked: selected.includes(attempt.id),
        onchange: (event) => toggleCompare(attempt.id, event.target.checked),
      }),
    ),
    h("td", { text: when }),
    h("td", { class: "mono", text: attempt.model }),
    h("td", { class: "num", text: attempt.status === "completed" ? formatNumber(attempt.score) : "–" }),
    h("td", { class: "num", text: formatNumber(attempt.prompt_tokens) }),
    h("td", {}, h("span", { class: `status status-${tone}`, text: label })),
    h(
      "td",
      { class: "row-actions" },
      h("button", { type: "button", class: "btn btn-small", text: "Show", onclick: () => showAttempt(attempt.id) }),
      h("button", { type: "button", class: "btn btn-small", text: "Edit", onclick: () => editAttempt(attempt.id) }),
    ),
  );
}

async function loadAttempts() {
  const body = $("[data-attempts]");
  let page;
  try {
    page = await api(`challenges/${encodeURIComponent(challenge.slug)}/attempts/`, { query: { page_size: 20 } });
  } catch (error) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 7, class: "muted", text: apiErrorMessage(error) })));
    return;
  }
  const attempts = Array.isArray(page) ? page : page.results || [];
  attemptsById.clear();
  for (const attempt of attempts) attemptsById.set(attempt.id, attempt);
  selected = selected.filter((id) => attemptsById.has(id));
  body.replaceChildren(...attempts.map(attemptRow));
  if (!attempts.length) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 7, class: "muted", text: "No attempts yet: your attempts appear here." })));
  } else if (!promptField.value.trim()) {
    promptField.value = attempts[0].prompt; // pick up where the learner left off
    syncVariables();
  }
  renderDiff();
}

function toggleCompare(id, on) {
  selected = selected.filter((item) => item !== id);
  if (on) selected.push(id);
  while (selected.length > 2) selected.shift();
  for (const box of $$("[data-compare]")) box.checked = selected.includes(box.dataset.compare);
  renderDiff();
}

function renderDiff() {
  const panel = $("[data-diff]");
  if (selected.length !== 2) {
    panel.hidden = true;
    return;
  }
  const [older, newer] = selected.map((id) => attemptsById.get(id)).sort((a, b) => a.created_at.localeCompare(b.created_at));
  const ops = diffPrompts(older.prompt, newer.prompt);
  const score = (attempt) => (attempt.status === "completed" ? formatNumber(attempt.score) : "–");
  $("[data-diff-summary]").textContent =
    `${formatDate(older.created_at)} → ${formatDate(newer.created_at)}: score ${score(older)} → ${score(newer)}, ` +
    `tokens ${older.prompt_tokens} → ${newer.prompt_tokens}.`;
  $("[data-diff-view]").replaceChildren(...diffNodes(ops));
  panel.hidden = false;
}

function showAttempt(id) {
  const attempt = attemptsById.get(id);
  if (!attempt || (client && client.running)) return;
  grid.showAttempt(attempt);
  const [label, tone] = resultLabel(attempt);
  setStatus(`${label} · ${formatDate(attempt.created_at)}`, tone === "completed" ? "passed" : tone);
  if (attempt.status === "completed") showScore(attempt);
  else $("[data-score-panel]").hidden = true;
  $("[data-results]").scrollIntoView({ block: "start" });
  // The keyboard follows the eyes: the next Tab or screen-reader line starts at the results.
  $("#results-title").focus({ preventScroll: true });
}

function editAttempt(id) {
  const attempt = attemptsById.get(id);
  if (!attempt) return;
  promptField.value = attempt.prompt;
  form.elements.system.value = attempt.system || "";
  if ([...form.elements.model.options].some((option) => option.value === attempt.model && !option.disabled)) {
    form.elements.model.value = attempt.model;
  }
  syncVariables();
  promptField.focus();
}

/** The learner's best and the solvers count, fresh after each attempt. */
async function loadSummary() {
  try {
    const detail = await api(`challenges/${encodeURIComponent(challenge.slug)}/`);
    $("[data-solvers-count]").textContent = formatNumber(detail.solvers_count);
    const box = $("[data-your-best-box]");
    box.hidden = !detail.solved;
    if (detail.solved) $("[data-your-best]").textContent = formatNumber(detail.best_score);
  } catch {
    // The figures rendered with the page stay.
  }
}

/** The board's REST page (learners only): on load, and after each attempt next to the live updates. */
async function loadBoard() {
  try {
    const page = await api(`challenges/${encodeURIComponent(challenge.slug)}/leaderboard/`, { query: { page_size: 10 } });
    board.render(page.results || []);
  } catch {
    // The socket's snapshot and updates fill the board.
  }
}

async function startBoard(user) {
  board = new ChallengeBoard({ ...boardElements(), slug: challenge.slug, meId: user ? user.id : null });
  if (user) await loadBoard();
  board.connect();
}

// --- wiring ------------------------------------------------------------------------------------

function bind() {
  const dataNode = document.getElementById("challenge-data");
  if (!dataNode) return false;
  challenge = JSON.parse(dataNode.textContent);
  form = $("[data-attempt-form]");
  promptField = form.elements.prompt;
  submitButton = $("[data-submit]");
  stopButton = $("[data-stop]");
  statusBadge = $("[data-attempt-status]");
  return true;
}

/** The page body of a challenge only its author sees (the server rendered the page for everyone). */
async function fetchOwnChallenge(slug) {
  const token = await getAccess().catch(() => null);
  if (!token) return false;
  const response = await fetch(`/challenges/${encodeURIComponent(slug)}/body/`, {
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    credentials: "omit",
  }).catch(() => null);
  if (!response || !response.ok) return false;
  const { title, html } = await response.json();
  $("#main").innerHTML = html; // rendered and escaped by the server's templates, like the page itself
  document.title = `${title} · PromptCraft`;
  return true;
}

async function main(user) {
  grid = new CaseGrid($("[data-case-grid]"), { samples: challenge.samples });
  for (const chip of $$("[data-variable-chip]", form)) chip.addEventListener("click", () => insertVariable(chip.dataset.variableChip));
  promptField.addEventListener("input", () => {
    const problem = syncVariables();
    const slot = $('[data-error-for="prompt"]', form);
    if (!slot.textContent) return;
    slot.textContent = problem; // an error shown on submit follows the edits until it is fixed
    if (!problem) promptField.removeAttribute("aria-invalid");
  });
  startBoard(user);
  if (!user) {
    $("[data-guest-actions]").hidden = false;
    return;
  }
  $("[data-member-actions]").hidden = false;
  $("[data-attempts-panel]").hidden = false;
  client = new AttemptClient();
  client.addEventListener("started", (event) => onStarted(event.detail));
  client.addEventListener("run", (event) => grid.run(event.detail));
  client.addEventListener("case", (event) => onCase(event.detail));
  client.addEventListener("end", (event) => onEnd(event.detail));
  client.addEventListener("refused", (event) => onRefused(event.detail));
  client.addEventListener("connection", (event) => {
    const banner = $("[data-connection-banner]");
    banner.hidden = event.detail.up;
    banner.textContent = event.detail.up ? "" : "Connection lost. Reconnecting…";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!client.running) submit();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (!client.running) submit();
    }
  });
  stopButton.addEventListener("click", () => client.cancel());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && client.running) client.cancel();
  });
  syncVariables();
  await Promise.all([loadAttempts(), loadSummary()]);
}

const viewer = await boot();
const missing = $("[data-challenge-missing]");
if (bind() || (viewer && missing && (await fetchOwnChallenge(missing.dataset.slug)) && bind())) {
  await main(viewer);
  if (viewer) await loadAuthorInsights(challenge.slug, $("#main"));
}
document.body.dataset.challengeReady = "true";
