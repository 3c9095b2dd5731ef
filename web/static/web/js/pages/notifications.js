// The notification list: newest first, unread marked, read marks shared with the user's other devices.
import { api } from "../api.js";
import { boot } from "../app.js";
import { $, formatDate, h, showError } from "../dom.js";
import { setBell } from "../notification_bell.js";
import { notificationText } from "../notification_text.js";

const list = $("[data-notification-list]");
const pager = $("[data-pager]");
const markAll = $("[data-mark-all]");
const filter = $("[data-notification-filter]");
const PAGE_SIZE = 20;
let page = 1;

function item(row) {
  const { title, body } = notificationText(row);
  const node = h(
    "li",
    { class: `notification panel${row.read ? "" : " unread"}`, "data-notification": row.id, "data-read": String(row.read) },
    h(
      "div",
      { class: "notification-text" },
      h("strong", { text: title }),
      body ? h("span", { text: body }) : null,
      h("time", { class: "muted", datetime: row.created_at, text: formatDate(row.created_at) }),
    ),
    row.read
      ? h("span", { class: "muted", text: "Read" })
      : h("button", { type: "button", class: "btn btn-ghost", onclick: () => markRead({ ids: [row.id] }), text: "Mark read" }),
  );
  if (!row.read) node.prepend(h("span", { class: "visually-hidden", text: "Unread: " }));
  return node;
}

async function load() {
  list.setAttribute("aria-busy", "true");
  try {
    const unreadOnly = filter.querySelector("input:checked").value === "unread";
    const answer = await api("game/notifications/", { query: { page, page_size: PAGE_SIZE, unread: unreadOnly || undefined } });
    const results = answer.results || [];
    list.replaceChildren(...results.map(item));
    if (!results.length) list.replaceChildren(h("li", { class: "muted", text: "Nothing here yet: XP, levels, badges and streaks show up here." }));
    setBell(answer.unread);
    $("[data-notification-count]").textContent = `${answer.unread} unread`;
    markAll.disabled = answer.unread === 0;
    pager.hidden = !answer.next && !answer.previous;
    $("[data-prev]").disabled = !answer.previous;
    $("[data-next]").disabled = !answer.next;
    $("[data-page-label]").textContent = `Page ${page}`;
  } catch (error) {
    showError(null, error);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

async function markRead(body) {
  try {
    const answer = await api("game/notifications/read/", { method: "POST", body });
    setBell(answer.unread);
  } catch (error) {
    showError(null, error);
  }
  await load();
}

await boot();
markAll.addEventListener("click", () => markRead({ all: true }));
filter.addEventListener("change", () => {
  page = 1;
  load();
});
$("[data-prev]").addEventListener("click", () => {
  page = Math.max(1, page - 1);
  load();
});
$("[data-next]").addEventListener("click", () => {
  page += 1;
  load();
});
// Another device marked some read, or a new event came: show the list as it is now.
let timer = null;
const reloadSoon = () => {
  clearTimeout(timer);
  timer = setTimeout(load, 300);
};
window.addEventListener("pc:notifications-read", reloadSoon);
window.addEventListener("pc:game", reloadSoon);
await load();
document.body.dataset.notificationsReady = "true";
