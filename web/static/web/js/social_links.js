// The profile's sign-in providers: the linked ones (unlink) and the configured others (link, a round
// trip to the provider through /social/<provider>/link/, started with the page's bearer token, back
// to the page it started from).
import { api } from "./api.js";
import { getAccess } from "./auth.js";
import { $, formatDate, h, showError } from "./dom.js";
import { showSocialOutcome, socialErrorMessage } from "./social.js";

async function linkStart(provider) {
  const token = await getAccess();
  const back = encodeURIComponent(document.body.dataset.page || "profile");
  const response = await fetch(`/social/${encodeURIComponent(provider.id)}/link/?back=${back}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.url) throw new Error(body.detail || socialErrorMessage(body.code));
  window.location.assign(body.url);
}

/** Wire the sign-in providers section of the profile page. */
export async function setUpSocialLinks() {
  const section = $("[data-social]");
  if (!section) return;
  showSocialOutcome($("[data-form-error]"), $("[data-social-notice]", section));
  const list = $("[data-social-list]", section);
  const reload = async () => {
    const status = await api("auth/social/");
    section.hidden = !status.providers.length && !status.links.length;
    const names = Object.fromEntries(status.providers.map((p) => [p.id, p.name]));
    const linked = new Set(status.links.map((link) => link.provider));
    const rows = status.links.map((link) => {
      const name = names[link.provider] || link.provider;
      const unlink = h("button", {
        class: "btn btn-danger",
        type: "button",
        text: "Unlink",
        "aria-label": `Unlink ${name}`,
        onclick: async () => {
          unlink.disabled = true;
          try {
            await api(`auth/social/links/${link.id}/`, { method: "DELETE" });
            await reload();
          } catch (error) {
            unlink.disabled = false;
            showError(null, error);
          }
        },
      });
      return h(
        "li",
        { dataset: { socialLinked: link.provider } },
        h("strong", { text: name }),
        h("span", { class: "muted", text: ` ${link.email || ""} · linked ${formatDate(link.linked_at)} ` }),
        unlink,
      );
    });
    for (const provider of status.providers.filter((p) => !linked.has(p.id))) {
      const button = h("button", {
        class: "btn",
        type: "button",
        text: `Link ${provider.name}`,
        dataset: { socialLink: provider.id },
        onclick: async () => {
          button.disabled = true;
          try {
            await linkStart(provider);
          } catch (error) {
            button.disabled = false;
            showError(null, error);
          }
        },
      });
      rows.push(h("li", {}, button));
    }
    list.replaceChildren(...rows);
  };
  await reload();
}
