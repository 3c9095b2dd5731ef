// Toasts: short, polite announcements stacked at the bottom of the page.

/**
 * Show a toast; `timeout: 0` keeps it until removed. `action: {label, run}` adds a button (e.g.
 * "Undo") that runs `run()` and closes the toast; `onDismiss` runs when the user closes it
 * (× or Escape) rather than the action.
 */
export function toast({ title, body = "", kind = "info", timeout = 6000, action = null, onDismiss = null }) {
  const region = document.querySelector("[data-toasts]");
  if (!region) return null;
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.dataset.toast = kind;
  const heading = document.createElement("strong");
  heading.textContent = title;
  item.append(heading);
  if (body) {
    const text = document.createElement("span");
    text.textContent = body;
    item.append(text);
  }
  const dismiss = () => {
    item.remove();
    if (onDismiss) onDismiss();
  };
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small toast-action";
    button.dataset.toastAction = "";
    button.textContent = action.label;
    button.addEventListener("click", () => {
      item.remove();
      action.run();
    });
    item.append(button);
    item.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        dismiss();
      }
    });
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", dismiss);
  item.append(close);
  region.append(item);
  if (timeout) setTimeout(() => item.classList.add("toast-leaving"), timeout);
  if (timeout) setTimeout(() => item.remove(), timeout + 400);
  return item;
}
