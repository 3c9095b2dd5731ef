// The /ws/playground/ conversation: starts runs, routes their frames to panes, cancels and resumes.
import { runErrorMessage } from "./errors.js";
import { AuthSocket } from "./socket.js";

let counter = 0;
function requestId() {
  counter += 1;
  return `req-${Date.now().toString(36)}-${counter}`;
}

export class PlaygroundClient extends EventTarget {
  constructor() {
    super();
    this.panes = new Set();
    this.socket = new AuthSocket("/ws/playground/");
    this.socket.addEventListener("message", (event) => this.onMessage(event.detail));
    this.socket.addEventListener("down", () => this.onDown());
    this.socket.addEventListener("open", (event) => this.onOpen(event.detail));
  }

  paneFor(message) {
    for (const pane of this.panes) {
      if (message.run_id && pane.runId === message.run_id) return pane;
      if (message.request_id && pane.requestId === message.request_id) return pane;
    }
    return null;
  }

  /** Start a run in `pane`; `payload` is {model, prompt | template_id + variables, params}. */
  start(pane, payload) {
    this.panes.add(pane);
    const id = requestId();
    pane.start(id);
    // False when queued until the socket is back: such a start is sent later, not lost.
    pane.startSent = this.socket.send({ type: "run.start", request_id: id, ...payload });
    this.changed();
  }

  /** Follow a run that is still going (e.g. started before a reload): replay it from the start. */
  follow(pane, runId) {
    this.panes.add(pane);
    pane.started(runId);
    pane.setStatus("resuming");
    pane.startSent = true;
    this.socket.send({ type: "run.resume", run_id: runId, after_seq: -1 });
    this.changed();
  }

  cancelAll() {
    for (const pane of this.panes) {
      if (!pane.active) continue;
      if (pane.runId) this.socket.send({ type: "run.cancel", run_id: pane.runId });
      else pane.cancelRequested = true; // sent as soon as the run has an id
    }
  }

  forget(pane) {
    this.panes.delete(pane);
  }

  get running() {
    return [...this.panes].some((pane) => pane.active);
  }

  changed() {
    this.dispatchEvent(new CustomEvent("change"));
  }

  onDown() {
    for (const pane of this.panes) if (pane.active && pane.runId) pane.setStatus("resuming");
    this.dispatchEvent(new CustomEvent("connection", { detail: { up: false } }));
  }

  onOpen({ reconnected }) {
    this.dispatchEvent(new CustomEvent("connection", { detail: { up: true } }));
    for (const pane of this.panes) {
      if (!pane.active || pane.runId) continue;
      if (!pane.startSent) {
        pane.startSent = true; // its queued start goes out on this socket, right after this event
      } else if (reconnected) {
        // The start request may have been lost with the old socket: we cannot know its run.
        pane.failed("The connection dropped before the run started. Run it again.");
      }
    }
    if (reconnected) {
      for (const pane of this.panes) {
        if (pane.active && pane.runId) {
          this.socket.send({ type: "run.resume", run_id: pane.runId, after_seq: pane.lastSeq });
        }
      }
    }
    this.changed();
  }

  onMessage(message) {
    const pane = this.paneFor(message);
    switch (message.type) {
      case "run.started":
        if (pane) {
          pane.started(message.run_id);
          if (pane.cancelRequested) this.socket.send({ type: "run.cancel", run_id: message.run_id });
        }
        break;
      case "run.token":
        if (pane && !pane.token(message.seq, message.delta)) {
          // A frame went missing: ask for everything after the last one we have.
          this.socket.send({ type: "run.resume", run_id: pane.runId, after_seq: pane.lastSeq });
        }
        break;
      case "run.completed":
        if (pane) pane.completed(message);
        this.dispatchEvent(new CustomEvent("finished", { detail: message }));
        break;
      case "run.cancelled":
        if (pane) pane.cancelled(message);
        this.dispatchEvent(new CustomEvent("finished", { detail: message }));
        break;
      case "run.failed":
        if (pane) {
          if (message.output) pane.setText(message.output);
          pane.failed(runErrorMessage(message.error));
        }
        this.dispatchEvent(new CustomEvent("finished", { detail: message }));
        break;
      case "run.queued":
        if (pane) pane.queued(message.position);
        break;
      case "error":
        this.onError(message, pane);
        break;
      default:
        return;
    }
    this.changed();
  }

  onError(message, pane) {
    const text = runErrorMessage(message);
    if (pane) {
      if (pane.active) pane.failed(text);
      return;
    }
    if (message.code === "unknown_run") {
      // A resume for a run the server no longer has: the text we hold is all there is.
      for (const candidate of this.panes) {
        if (candidate.status === "resuming" && (!message.run_id || candidate.runId === message.run_id)) {
          candidate.failed("The run could not be resumed after the connection dropped.");
        }
      }
      return;
    }
    const waiting = [...this.panes].filter((candidate) => candidate.status === "starting");
    if (waiting.length) {
      for (const candidate of waiting) candidate.failed(text);
      return;
    }
    this.dispatchEvent(new CustomEvent("problem", { detail: text }));
  }
}
