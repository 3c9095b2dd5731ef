// The per-case results grid: public outputs stream in, each case turns green or red as it is graded.
// Hidden cases only ever show pass or fail: the server sends nothing else about them.
import { $, $$, h } from "./dom.js";

const STATE_TEXT = {
  idle: "Waiting",
  queued: "Queued",
  running: "Running…",
  passed: "Passed",
  failed: "Failed",
  stopped: "Stopped early",
  skipped: "Not run",
};
const STOPPED_NOTE = "Stopped early: the output had already failed a check, so the run was stopped (and charged only for what it used).";

export class CaseGrid {
  constructor(root, { samples = 1 } = {}) {
    this.root = root;
    this.samples = samples;
    this.cards = new Map(); // case id → card element
    this.runs = new Map(); // run id → {block, lastSeq, text}
    this.reset();
  }

  /** Every card back to its resting state, hidden slots unassigned. */
  reset() {
    this.runs.clear();
    this.cards.clear();
    for (const card of $$("[data-case-card]", this.root)) {
      if (card.dataset.hidden === "true") delete card.dataset.caseId;
      if (card.dataset.caseId) this.cards.set(card.dataset.caseId, card);
      $("[data-case-samples]", card).replaceChildren();
      this.setState(card, "idle");
    }
  }

  /** Bind the attempt's case ids to the cards: public ones by id, hidden ones to the hidden slots in order. */
  assign(cases) {
    this.reset();
    const slots = $$("[data-case-card][data-hidden='true']", this.root);
    for (const ref of cases) {
      let card = this.cards.get(ref.id);
      if (!card && ref.hidden) card = slots.shift();
      if (!card) card = this.extraCard(ref); // a case added since the page was loaded
      if (!card) continue;
      card.dataset.caseId = ref.id;
      this.cards.set(ref.id, card);
    }
  }

  extraCard(ref) {
    const number = $$("[data-case-card]", this.root).length + 1;
    const card = h(
      "li",
      { class: `case-card${ref.hidden ? " hidden-case" : ""}`, dataset: { caseCard: "", hidden: String(ref.hidden) } },
      h(
        "header",
        { class: "case-head" },
        h("h3", {}, `Case ${number}`, ref.hidden ? h("span", { class: "muted", text: " (hidden)" }) : null),
        h("span", { class: "case-state", "data-case-state": "" }),
      ),
      h("div", { class: "case-samples", "data-case-samples": "" }),
    );
    this.root.append(card);
    return card;
  }

  setState(card, state) {
    card.dataset.state = state;
    $("[data-case-state]", card).textContent = STATE_TEXT[state] || state;
  }

  /** The sample block of a case (made on first use). */
  block(card, sample) {
    const container = $("[data-case-samples]", card);
    let block = $(`[data-sample="${sample}"]`, container);
    if (block) return block;
    const hidden = card.dataset.hidden === "true";
    block = h(
      "div",
      { class: "sample", dataset: { sample: String(sample), state: "running" } },
      this.samples > 1 ? h("span", { class: "sample-label", text: `Sample ${sample + 1}` }) : null,
      hidden ? null : h("pre", { class: "case-output", "data-sample-output": "", tabindex: "0", "aria-label": "Output" }),
      hidden ? null : h("ul", { class: "check-results", "data-sample-checks": "" }),
      h("p", { class: "sample-note", "data-sample-note": "", hidden: true }),
    );
    container.append(block);
    return block;
  }

  queued() {
    for (const card of this.cards.values()) this.setState(card, "queued");
  }

  /** run.* frames of a public case's run. */
  run(message) {
    const card = this.cards.get(message.case_id);
    if (!card) return;
    const sample = message.sample ?? 0;
    if (message.type === "run.started") {
      const block = this.block(card, sample);
      this.runs.set(message.run_id, { block, lastSeq: -1, text: "" });
      if (!["passed", "failed", "stopped"].includes(card.dataset.state)) this.setState(card, "running");
      return;
    }
    const run = this.runs.get(message.run_id);
    if (!run) return;
    const output = $("[data-sample-output]", run.block);
    if (message.type === "run.token") {
      if (message.seq !== run.lastSeq + 1) return; // a replay or a gap: the run's end carries the whole text
      run.lastSeq = message.seq;
      run.text += message.delta;
      output.textContent = run.text;
      return;
    }
    if (typeof message.output === "string" && output) output.textContent = message.output;
    if (message.type === "run.failed") this.note(run.block, (message.error && message.error.message) || "The run failed.");
  }

  note(block, text) {
    const note = $("[data-sample-note]", block);
    note.textContent = text;
    note.hidden = !text;
  }

  /** attempt.case (or a graded sample from the attempts list). */
  graded({ case_id: caseId, sample = 0, passed, stopped_early: stoppedEarly, checks, output }) {
    const card = this.cards.get(caseId);
    if (!card) return;
    const block = this.block(card, sample);
    const state = passed ? "passed" : stoppedEarly ? "stopped" : "failed";
    block.dataset.state = state;
    if (typeof output === "string") {
      const out = $("[data-sample-output]", block);
      if (out) out.textContent = output;
    }
    const list = $("[data-sample-checks]", block);
    if (list && Array.isArray(checks)) {
      list.replaceChildren(
        ...checks.map((check) =>
          h(
            "li",
            { class: check.passed ? "check-pass" : "check-fail", dataset: { checkType: check.type } },
            h("span", { class: "check-mark", "aria-hidden": "true", text: check.passed ? "✓" : "✗" }),
            h("span", { class: "visually-hidden", text: check.passed ? "Passed: " : "Failed: " }),
            h("code", { text: check.type }),
            " ",
            check.message || "",
          ),
        ),
      );
    }
    this.note(block, stoppedEarly ? STOPPED_NOTE : "");
    this.setState(card, this.caseState(card));
  }

  caseState(card) {
    const states = $$("[data-sample]", card).map((block) => block.dataset.state);
    if (states.includes("stopped")) return "stopped";
    if (states.includes("failed")) return "failed";
    if (states.length >= this.samples && states.every((state) => state === "passed")) return "passed";
    return "running";
  }

  /** The attempt ended: cases it never graded say so. */
  ended() {
    for (const card of this.cards.values()) {
      if (["idle", "queued", "running"].includes(card.dataset.state)) this.setState(card, "skipped");
    }
  }

  /** Show a finished attempt from the REST list. */
  showAttempt(attempt) {
    this.assign(attempt.cases.map((item) => ({ id: item.id, hidden: item.hidden })));
    for (const item of attempt.cases) {
      for (const sample of item.samples) {
        if (sample.passed === null || sample.passed === undefined) continue;
        this.graded({ case_id: item.id, ...sample });
      }
    }
    this.ended();
  }
}
