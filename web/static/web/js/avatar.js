// Avatars: the user's picture, or their initials on a colour of their own when they have none.
import { h } from "./dom.js";

/** Up to two letters for a username: "ada_lovelace" -> "AL", "grace" -> "GR". */
export function initials(username) {
  const name = String(username || "?").trim();
  const words = name.split(/[\s._-]+/u).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]].map((word) => [...word][0]) : [...name].slice(0, 2);
  return letters.join("").toUpperCase() || "?";
}

function hue(text) {
  let hash = 0;
  for (const char of String(text)) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

/** An avatar for `user` ({username, avatar_url}): decorative (the name is shown beside it). */
export function avatarNode(user, { size = 32, className = "" } = {}) {
  const name = (user && user.username) || "?";
  const url = user && user.avatar_url;
  const node = url
    ? h("img", {
        class: `avatar ${className}`.trim(),
        src: url,
        alt: "",
        width: size,
        height: size,
        decoding: "async",
        dataset: { avatar: "image" },
      })
    : // The letters come from CSS (attr()): they stay out of the text of the rows that hold them.
      h("span", {
        class: `avatar avatar-initials ${className}`.trim(),
        "aria-hidden": "true",
        dataset: { avatar: "initials", initials: initials(name) },
      });
  node.style.width = `${size}px`;
  node.style.height = `${size}px`;
  if (!url) {
    node.style.setProperty("--avatar-hue", String(hue(name)));
    node.style.fontSize = `${Math.round(size * 0.4)}px`;
  }
  return node;
}

/** Tell the page's other parts (header, profile) that the signed-in user's avatar changed. */
export function announceAvatar(avatarUrl) {
  window.dispatchEvent(new CustomEvent("pc:avatar", { detail: { avatar_url: avatarUrl } }));
}
