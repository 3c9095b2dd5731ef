// Toasts: short, polite announcements stacked at the bottom of the page.

export function toast({ title, body = "", kind = "info", timeout = 6000 }) {
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
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(close);
  region.append(item);
  if (timeout) setTimeout(() => item.classList.add("toast-leaving"), timeout);
  if (timeout) setTimeout(() => item.remove(), timeout + 400);
  return item;
}
