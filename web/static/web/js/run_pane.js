// One output pane: a run's streamed text, status, error and final stats.
import { $, formatCredits, formatMs, formatNumber } from "./dom.js";

const STATUS_TEXT = {
  idle: "Idle",
  starting: "Starting…",
  queued: "Queued…",
  streaming: "Streaming…",
  resuming: "Reconnecting…",
  completed: "Completed",
  cancelled: "Stopped",
  failed: "Failed",
};

export class RunPane {
  constructor(container, { model, modelName }) {
    const fragment = document.getElementById("output-pane").content.cloneNode(true);
    this.root = $("[data-pane]", fragment);
    container.append(fragment);
    this.output = $("[data-pane-output]", this.root);
    this.textNode = document.createTextNode("");
    this.output.append(this.textNode);
    this.model = model;
    this.root.dataset.model = model;
    $("[data-pane-model]", this.root).textContent = modelName || model;
    this.requestId = null;
    this.runId = null;
    this.lastSeq = -1;
    this.text = "";
    this.setStatus("idle");
  }

  get active() {
    return ["starting", "queued", "streaming", "resuming"].includes(this.status);
  }

  setStatus(status) {
    this.status = status;
    this.root.dataset.status = status;
    this.output.setAttribute("aria-busy", String(this.active));
    $("[data-pane-status]", this.root).textContent = STATUS_TEXT[status] || status;
  }

  start(requestId) {
    this.requestId = requestId;
    this.startedAt = performance.now();
    this.setStatus("starting");
  }

  /** Times measured here, for runs the server reports without them (stopped runs). */
  measured() {
    if (this.startedAt === undefined) return {};
    const ttft = this.firstTokenAt === undefined ? undefined : this.firstTokenAt - this.startedAt;
    return { ttft_ms: ttft, latency_ms: performance.now() - this.startedAt };
  }

  started(runId) {
    this.runId = runId;
    this.root.dataset.runId = runId;
    if (this.status === "starting") this.setStatus("streaming");
  }

  /** Append a delta in order; returns false when `seq` leaves a gap (the caller asks for a resume). */
  token(seq, delta) {
    if (seq <= this.lastSeq) return true; // replayed after a resume: already shown
    if (seq !== this.lastSeq + 1) return false;
    this.lastSeq = seq;
    if (this.firstTokenAt === undefined) this.firstTokenAt = performance.now();
    this.text += delta;
    this.textNode.appendData(delta);
    if (this.status !== "streaming") this.setStatus("streaming");
    this.output.scrollTop = this.output.scrollHeight;
    return true;
  }

  /** The local model is busy with other runs: this one waits its turn. */
  queued(position) {
    if (this.lastSeq >= 0) return;
    this.setStatus("queued");
    if (position) $("[data-pane-status]", this.root).textContent = `Queued (#${position})…`;
  }

  setText(text) {
    if (typeof text !== "string" || text === this.text) return;
    this.text = text;
    this.textNode.data = text;
  }

  completed(message) {
    this.setText(message.output);
    this.setStatus("completed");
    this.showStats({
      input_tokens: message.usage && message.usage.input_tokens,
      output_tokens: message.usage && message.usage.output_tokens,
      cost_credits: message.cost_credits,
      ttft_ms: message.ttft_ms,
      latency_ms: message.latency_ms,
    });
  }

  cancelled(message) {
    this.setText(message.output);
    this.setStatus("cancelled");
    this.showStats({
      input_tokens: message.usage && message.usage.input_tokens,
      output_tokens: message.usage && message.usage.output_tokens,
      cost_credits: message.cost_credits,
      ...this.measured(),
      ...(message.ttft_ms === undefined ? {} : { ttft_ms: message.ttft_ms }),
      ...(message.latency_ms === undefined ? {} : { latency_ms: message.latency_ms }),
    });
  }

  failed(text) {
    this.setStatus("failed");
    const box = $("[data-pane-error]", this.root);
    box.textContent = text;
    box.hidden = false;
  }

  showStats(run) {
    const stat = (name) => $(`[data-stat="${name}"]`, this.root);
    stat("tokens").textContent = `${formatNumber(run.input_tokens)} / ${formatNumber(run.output_tokens)}`;
    stat("cost").textContent = formatCredits(run.cost_credits);
    stat("ttft").textContent = formatMs(run.ttft_ms);
    stat("latency").textContent = formatMs(run.latency_ms);
  }

  /** Show a finished run from the history. */
  showRun(run) {
    this.runId = run.id;
    this.root.dataset.runId = run.id;
    this.setText(run.output || "");
    this.setStatus(run.status === "running" ? "streaming" : run.status);
    this.showStats(run);
  }
}
