// Graded attempts over /ws/playground/: `attempt.start`, then the attempt's frames as events.
//
// Events (detail: the server frame): "started" (attempt.started), "run" (run.* of a public case),
// "case" (attempt.case), "end" (attempt.completed / .cancelled / .failed, or a local
// {type: "attempt.interrupted"} when the connection drops, which stops the attempt on the server),
// "refused" (an `error` answering the start: nothing ran), "connection" ({up}).
import { AuthSocket } from "./socket.js";

const END_TYPES = new Set(["attempt.completed", "attempt.cancelled", "attempt.failed"]);
let counter = 0;

function requestId() {
  counter += 1;
  return `attempt-${Date.now().toString(36)}-${counter}`;
}

export class AttemptClient extends EventTarget {
  constructor() {
    super();
    this.current = null; // {requestId, attemptId, sent, cancelRequested, done}
    this.socket = new AuthSocket("/ws/playground/");
    this.socket.addEventListener("message", (event) => this.onMessage(event.detail));
    this.socket.addEventListener("down", () => this.onDown());
    this.socket.addEventListener("open", () => this.onOpen());
  }

  onOpen() {
    // A start queued while the socket was down goes out right after this event.
    if (this.running) this.current.sent = true;
    this.emit("connection", { up: true });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get running() {
    return Boolean(this.current && !this.current.done);
  }

  /** Send `attempt.start` ({challenge, prompt, model?, system?, params?}); queued while the socket is down. */
  start(payload) {
    const id = requestId();
    this.current = { requestId: id, attemptId: null, sent: false, cancelRequested: false, done: false };
    this.current.sent = this.socket.send({ type: "attempt.start", request_id: id, ...payload });
    return id;
  }

  cancel() {
    if (!this.running) return;
    if (this.current.attemptId) this.socket.send({ type: "attempt.cancel", attempt_id: this.current.attemptId });
    else this.current.cancelRequested = true; // sent as soon as the attempt has an id
  }

  finish(frame) {
    this.current.done = true;
    this.emit("end", frame);
  }

  isOurs(message) {
    const current = this.current;
    if (!current || current.done) return false;
    if (message.attempt_id && current.attemptId) return message.attempt_id === current.attemptId;
    return Boolean(message.request_id) && message.request_id === current.requestId;
  }

  onMessage(message) {
    if (!this.isOurs(message)) return;
    if (message.type === "attempt.started") {
      this.current.attemptId = message.attempt_id;
      this.emit("started", message);
      if (this.current.cancelRequested) this.cancel();
      return;
    }
    if (message.type.startsWith("run.")) {
      this.emit("run", message);
    } else if (message.type === "attempt.case") {
      this.emit("case", message);
    } else if (END_TYPES.has(message.type)) {
      this.finish(message);
    } else if (message.type === "error" && !this.current.attemptId) {
      this.current.done = true;
      this.emit("refused", message);
    }
  }

  onDown() {
    this.emit("connection", { up: false });
    // Closing the socket cancels its attempts on the server; one still queued here is sent later.
    if (this.running && this.current.sent) this.finish({ type: "attempt.interrupted" });
  }
}
