// One clear sentence for every error the API or the sockets can give.

const RUN_ERRORS = {
  insufficient_credits:
    "Not enough credits for this run. Lower “Max tokens”, pick a cheaper model, or earn credits by levelling up.",
  email_unverified:
    "Verify your email to spend credits: follow the link we emailed you (your profile sends a new one). Until then you get a few free runs a day on the built-in models.",
  rate_limited: "You are sending requests too quickly.",
  provider_error: "The model provider is unavailable right now. Try again shortly or pick another model.",
  provider_unavailable: "This model is unavailable right now. Pick another model.",
  timeout: "The model took too long to answer. Try again, perhaps with fewer max tokens.",
  unknown_run: "That run is no longer available.",
  too_many_runs: "You already have the maximum number of runs going. Wait for one to finish.",
  concurrency_limit: "You already have the maximum number of runs going. Wait for one to finish.",
  interrupted: "The run was interrupted by a server restart.",
  cancelled: "The run was cancelled.",
};

export function retryAfterText(seconds) {
  if (!seconds && seconds !== 0) return "";
  const s = Math.max(1, Math.ceil(Number(seconds)));
  return ` Try again in ${s} second${s === 1 ? "" : "s"}.`;
}

/** A sentence for a `{code, message}` error from a socket (`run.failed` or `error`). */
export function runErrorMessage(error) {
  const code = error && error.code;
  const base = RUN_ERRORS[code];
  const retry = error && (error.retry_after ?? error.retryAfter);
  if (code === "rate_limited") return base + (retryAfterText(retry) || " Wait a minute and try again.");
  if (base) return base;
  if (error && error.message) return error.message;
  return "The run failed. Try again.";
}

export class ApiError extends Error {
  constructor({ status, code, detail, fields, retryAfter }) {
    super(detail || `Request failed (${status})`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields || {};
    this.retryAfter = retryAfter;
  }
}

/** A sentence for an ApiError (field errors are shown next to their fields separately). */
export function apiErrorMessage(error) {
  if (!(error instanceof ApiError)) return "Cannot reach PromptCraft. Check your connection and try again.";
  if (error.status === 429) return "Too many requests." + (retryAfterText(error.retryAfter) || " Try again later.");
  if (error.code && RUN_ERRORS[error.code]) return runErrorMessage({ code: error.code, message: error.detail });
  if (error.status === 401) return error.detail || "Your session has ended. Please log in again.";
  if (error.status === 403) return error.detail || "You are not allowed to do that.";
  if (error.status === 404) return "Not found: it may have been deleted, or it is not shared with you.";
  if (error.status >= 500) return "The server had a problem. Try again in a moment.";
  if (error.detail) return error.detail;
  const first = Object.entries(error.fields)[0];
  if (first) return `${first[0] === "non_field_errors" ? "" : first[0] + ": "}${[].concat(first[1]).join(" ")}`;
  return "The request was not accepted.";
}
