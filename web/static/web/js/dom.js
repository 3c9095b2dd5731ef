// Small DOM utilities shared by the pages.
import { ApiError, apiErrorMessage } from "./errors.js";

/** Create an element: h("li", {class: "x", dataset: {id: 1}}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

/** Clear a form's messages. */
export function clearErrors(form) {
  for (const node of $$("[data-error-for]", form)) node.textContent = "";
  for (const node of $$("[aria-invalid]", form)) node.removeAttribute("aria-invalid");
  const banner = $("[data-form-error]", form) || $("[data-form-error]");
  if (banner) {
    banner.hidden = true;
    banner.textContent = "";
  }
}

/** Show an error: field messages next to their fields, everything else in the form's banner. */
export function showError(form, error, root = document) {
  const banner = (form && $("[data-form-error]", form)) || $("[data-form-error]", root);
  let unplaced = [];
  if (error instanceof ApiError && error.fields && Object.keys(error.fields).length && !error.detail) {
    for (const [field, messages] of Object.entries(error.fields)) {
      const text = flattenMessages(messages);
      const slot = form && $(`[data-error-for="${CSS.escape(field)}"]`, form);
      if (slot) {
        slot.textContent = text;
        const input = form.elements.namedItem(field);
        if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
      } else {
        unplaced.push(field === "non_field_errors" || field === "detail" ? text : `${field}: ${text}`);
      }
    }
  } else {
    unplaced = [apiErrorMessage(error)];
  }
  if (banner && unplaced.length) {
    banner.textContent = unplaced.join(" ");
    banner.hidden = false;
  }
  const firstInvalid = form && $("[aria-invalid='true']", form);
  if (firstInvalid) firstInvalid.focus();
}

function flattenMessages(messages) {
  if (typeof messages === "string") return messages;
  if (Array.isArray(messages)) return messages.map(flattenMessages).join(" ");
  if (messages && typeof messages === "object") {
    return Object.entries(messages)
      .map(([key, value]) => `${key}: ${flattenMessages(value)}`)
      .join(" ");
  }
  return String(messages);
}

export function formatNumber(value, digits = 0) {
  const number = Number(value);
  if (!Number.isFinite(number)) return "–";
  return number.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return "–";
  const value = Number(ms);
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

export function formatCredits(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return "–";
  return `${number.toLocaleString("en-US", { maximumFractionDigits: 4 })} credit${number === 1 ? "" : "s"}`;
}

/**
 * Submit `form` through `action()`: messages cleared first, the button disabled while it runs,
 * and any error shown on the form (the button is enabled again so the user can retry).
 */
export function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      showError(form, error);
      button.disabled = false;
    }
  });
}
