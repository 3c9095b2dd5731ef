// A word-level diff of two prompts (Myers' O(ND) algorithm), for comparing attempts.
import { h } from "./dom.js";

// Beyond this many tokens the prompts are compared line by line (the trace grows with N x D).
const MAX_WORD_TOKENS = 4000;

/** Words and the whitespace between them, so that joining the tokens gives the text back. */
export function wordTokens(text) {
  return String(text || "").match(/\s+|[^\s]+/g) || [];
}

function lineTokens(text) {
  return String(text || "").match(/[^\n]*\n|[^\n]+$/g) || [];
}

/** The shortest edit from `a` to `b` (token arrays): [{op: "same" | "del" | "ins", text}], neighbours merged. */
export function diffTokens(a, b) {
  const n = a.length;
  const m = b.length;
  const offset = n + m + 1;
  const v = new Int32Array(2 * offset + 1);
  const trace = [];
  let found = false;
  for (let d = 0; d <= n + m && !found; d += 1) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]);
      let x = down ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  const ops = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d -= 1) {
    const previous = trace[d];
    const k = x - y;
    const down = k === -d || (k !== d && previous[offset + k - 1] < previous[offset + k + 1]);
    const prevK = down ? k + 1 : k - 1;
    const prevX = previous[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ op: "same", text: a[x - 1] });
      x -= 1;
      y -= 1;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ op: "ins", text: b[y - 1] });
      else ops.push({ op: "del", text: a[x - 1] });
    }
    x = prevX;
    y = prevY;
  }
  ops.reverse();
  return grouped(ops);
}

/**
 * Neighbouring tokens of one kind merged; whitespace alone between two changes joins them, so that
 * "to the customer" → "briefly and factually" reads as one replacement, not word-by-word swaps.
 */
function grouped(ops) {
  const runs = [];
  for (let index = 0; index < ops.length; index += 1) {
    const item = ops[index];
    const changeAround = index > 0 && index < ops.length - 1 && ops[index - 1].op !== "same" && ops[index + 1].op !== "same";
    if (item.op === "same" && !(changeAround && /^\s+$/.test(item.text))) {
      runs.push({ op: "same", text: item.text });
      continue;
    }
    let last = runs[runs.length - 1];
    if (!last || last.op !== "change") {
      last = { op: "change", del: "", ins: "" };
      runs.push(last);
    }
    if (item.op !== "ins") last.del += item.text;
    if (item.op !== "del") last.ins += item.text;
  }
  const merged = [];
  const push = (op, text) => {
    if (!text) return;
    const last = merged[merged.length - 1];
    if (last && last.op === op) last.text += text;
    else merged.push({ op, text });
  };
  for (const run of runs) {
    if (run.op === "same") push("same", run.text);
    else {
      push("del", run.del);
      push("ins", run.ins);
    }
  }
  return merged;
}

/** Diff two prompts word by word (line by line when they are long). */
export function diffPrompts(before, after) {
  let a = wordTokens(before);
  let b = wordTokens(after);
  if (a.length + b.length > MAX_WORD_TOKENS) {
    a = lineTokens(before);
    b = lineTokens(after);
  }
  return diffTokens(a, b);
}

/** The diff as nodes: removed text in <del>, added text in <ins>. */
export function diffNodes(ops) {
  return ops.map((item) => {
    if (item.op === "same") return document.createTextNode(item.text);
    return h(item.op, { class: `diff-${item.op}`, text: item.text });
  });
}
