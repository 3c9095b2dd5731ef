// Tiny bar charts drawn with elements (no library): each bar has a title, the chart a summary label.
import { h } from "./dom.js";

/** Fill `container` with one bar per item; `value(item)` is its height, `title(item)` its tooltip. */
export function renderBars(container, items, { value, title, summary }) {
  const most = Math.max(1, ...items.map((item) => Number(value(item)) || 0));
  container.replaceChildren(
    ...items.map((item) =>
      h("span", {
        class: "bar",
        style: `height: ${Math.round(((Number(value(item)) || 0) / most) * 100)}%`,
        title: title(item),
      }),
    ),
  );
  container.setAttribute("aria-label", summary);
}
