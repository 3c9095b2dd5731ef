// Delete with undo: the item is hidden at once, and the DELETE is sent only when the undo toast
// expires, when the user dismisses it, or when the page goes away (a keepalive request), so
// "Undo" never has to recreate anything. Closing the tab still deletes; a browser crash within the
// few seconds keeps the item (the safe way to fail).
import { api, apiKeepalive } from "./api.js";
import { getAccess } from "./auth.js";
import { toast } from "./toast.js";

export const UNDO_MS = 6000;
const pending = new Map();

function flushAll() {
  for (const entry of [...pending.values()]) {
    pending.delete(entry.path);
    clearTimeout(entry.timer);
    apiKeepalive(entry.path, { method: "DELETE" });
    entry.toast?.remove();
  }
}

window.addEventListener("pagehide", flushAll);

/** Whether a DELETE of `path` is waiting for its undo window to close. */
export function isPending(path) {
  return pending.has(path);
}

/**
 * Offer `UNDO_MS` to undo deleting `path` (an API path). `hide()` runs now, `restore()` on undo
 * or when the DELETE fails (with the error), `done()` once the server has deleted it.
 * Focus moves to the toast's Undo button, so a keyboard user can take it back with Enter.
 */
export async function deleteWithUndo({ path, title, body = "", hide, restore, done }) {
  // The token a keepalive DELETE carries on pagehide must still be valid then: refresh it now.
  await getAccess();
  const entry = { path, timer: null, toast: null };
  const send = async () => {
    if (!pending.has(path)) return;
    pending.delete(path);
    clearTimeout(entry.timer);
    const hadFocus = entry.toast?.contains(document.activeElement);
    entry.toast?.remove();
    try {
      await api(path, { method: "DELETE" });
    } catch (error) {
      if (error.status !== 404) {
        restore(error);
        return;
      }
    }
    done({ hadFocus });
  };
  const undo = () => {
    if (!pending.has(path)) return;
    pending.delete(path);
    clearTimeout(entry.timer);
    restore(null);
  };
  pending.set(path, entry);
  hide();
  entry.toast = toast({ title, body, timeout: 0, action: { label: "Undo", run: undo }, onDismiss: send });
  entry.toast.dataset.undoFor = path;
  entry.timer = setTimeout(send, UNDO_MS);
  entry.toast.querySelector("[data-toast-action]").focus();
}
