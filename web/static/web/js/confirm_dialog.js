// A modal confirmation on <dialog>: focus is trapped while open, Escape cancels, and focus returns
// to whatever opened it.
import { h } from "./dom.js";

/** Resolves true when the user confirms, false on Cancel or Escape. */
export function confirmDialog({ title, body = "", confirmLabel = "Confirm", danger = false }) {
  const opener = document.activeElement;
  const heading = h("h2", { id: "confirm-title", text: title });
  const cancel = h("button", { class: "btn", type: "button", value: "cancel", text: "Cancel", autofocus: true });
  const confirm = h("button", {
    class: `btn ${danger ? "btn-danger" : "btn-primary"}`,
    type: "button",
    value: "confirm",
    text: confirmLabel,
    "data-confirm": "",
  });
  const dialog = h(
    "dialog",
    { class: "confirm-dialog", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-body" },
    heading,
    h("p", { id: "confirm-body", text: body }),
    h("div", { class: "actions dialog-actions" }, cancel, confirm),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    const close = (answer) => {
      dialog.close(answer);
    };
    cancel.addEventListener("click", () => close("cancel"));
    confirm.addEventListener("click", () => close("confirm"));
    dialog.addEventListener("close", () => {
      const confirmed = dialog.returnValue === "confirm";
      dialog.remove();
      // On confirm the caller decides where focus goes next; on cancel it returns to the opener.
      if (!confirmed && opener && opener.isConnected) opener.focus();
      resolve(confirmed);
    });
    dialog.showModal();
  });
}
