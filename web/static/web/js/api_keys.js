// The profile's personal API keys: create one (its key shown once, kept nowhere), list by prefix, revoke.
import { api, apiList } from "./api.js";
import { $, formatDate, h, onSubmit, showError } from "./dom.js";
import { toast } from "./toast.js";

function keyRow(key, reload) {
  const revoke = h("button", {
    class: "btn btn-danger",
    type: "button",
    text: "Revoke",
    "aria-label": `Revoke ${key.name}`,
    onclick: async () => {
      if (!window.confirm(`Revoke "${key.name}"? Scripts using it stop working at once.`)) return;
      revoke.disabled = true;
      try {
        await api(`auth/api-keys/${key.id}/`, { method: "DELETE" });
        await reload();
      } catch (error) {
        revoke.disabled = false;
        showError(null, error);
      }
    },
  });
  const expired = key.expires_at && new Date(key.expires_at) <= new Date();
  return h(
    "tr",
    { dataset: { keyId: key.id } },
    h("td", { text: key.name }),
    h("td", {}, h("code", { text: `${key.prefix}…` })),
    h("td", { text: formatDate(key.created_at) }),
    h("td", { text: key.expires_at ? `${formatDate(key.expires_at)}${expired ? " (expired)" : ""}` : "Never" }),
    h("td", {}, revoke),
  );
}

/** Wire the API keys section of the profile page. */
export async function setUpApiKeys() {
  const section = $("[data-api-keys]");
  if (!section) return;
  $("[data-openai-base]", section).textContent = `${window.location.origin}/v1`;
  const list = $("[data-key-list]", section);
  const created = $("[data-key-created]", section);
  const reload = async () => {
    const keys = await apiList("auth/api-keys/");
    list.replaceChildren(...keys.map((key) => keyRow(key, reload)));
    if (!keys.length) list.replaceChildren(h("tr", {}, h("td", { colspan: 5, class: "muted", text: "No keys yet." })));
  };
  const form = $("[data-key-form]", section);
  onSubmit(form, async () => {
    const body = { name: form.elements.name.value.trim() };
    const day = form.elements.expires_at.value;
    // The key works through the chosen day, in the visitor's time zone.
    if (day) body.expires_at = new Date(`${day}T23:59:59`).toISOString();
    const answer = await api("auth/api-keys/", { method: "POST", body });
    $("[data-key-value]", created).textContent = answer.key;
    created.hidden = false;
    form.reset();
    form.querySelector("button[type=submit]").disabled = false;
    await reload();
  });
  $("[data-key-copy]", created).addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("[data-key-value]", created).textContent);
      toast({ title: "Key copied" });
    } catch {
      toast({ title: "Copy it by hand", body: "The clipboard is not available here.", kind: "error" });
    }
  });
  await reload();
}
