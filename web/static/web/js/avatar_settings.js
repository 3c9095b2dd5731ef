// The avatar settings section (web/templates/web/_avatar_settings.html): preview, upload, remove.
// Starts by itself on any page that has the section, once the page has signed the user in.
import { api } from "./api.js";
import { currentUser, onUserChange, setUser } from "./auth.js";
import { announceAvatar, avatarNode } from "./avatar.js";
import { $, clearErrors, showError } from "./dom.js";

const PREVIEW_SIZE = 96;

function signedInUser() {
  const user = currentUser();
  if (user) return Promise.resolve(user);
  return new Promise((resolve) => onUserChange((next) => next && resolve(next)));
}

function setUp(section, user) {
  const form = $("[data-avatar-form]", section);
  const input = form.elements.namedItem("avatar");
  const upload = $("[data-avatar-upload]", section);
  const remove = $("[data-avatar-remove]", section);
  const status = $("[data-avatar-status]", section);
  const preview = $("[data-avatar-preview]", section);
  const maxBytes = Number(section.dataset.maxBytes) || Infinity;
  let current = user.avatar_url || null;
  let objectUrl = null;

  const dropPreview = () => {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
  };
  const show = (url) => {
    preview.replaceChildren(avatarNode({ username: user.username, avatar_url: url }, { size: PREVIEW_SIZE }));
    remove.hidden = !current;
  };
  const changed = (url, message) => {
    current = url;
    input.value = "";
    dropPreview();
    show(current);
    status.textContent = message;
    setUser({ ...user, avatar_url: url });
    announceAvatar(url);
  };

  input.addEventListener("change", () => {
    clearErrors(form);
    status.textContent = "";
    dropPreview();
    const file = input.files[0];
    if (!file) {
      show(current);
      return;
    }
    if (file.size > maxBytes) {
      input.value = "";
      show(current);
      $("[data-error-for='avatar']", form).textContent = `This file is too large (at most ${Math.floor(maxBytes / 1024)} KiB).`;
      input.setAttribute("aria-invalid", "true");
      return;
    }
    objectUrl = URL.createObjectURL(file);
    show(objectUrl);
    status.textContent = "Preview: upload it to use it.";
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const file = input.files[0];
    if (!file) {
      $("[data-error-for='avatar']", form).textContent = "Choose a picture first.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    const body = new FormData();
    body.append("avatar", file);
    upload.disabled = true;
    status.textContent = "Uploading…";
    try {
      const answer = await api("auth/me/avatar/", { method: "PUT", body });
      changed(answer.avatar_url, "Avatar updated.");
    } catch (error) {
      status.textContent = "";
      dropPreview();
      show(current);
      showError(form, error);
    } finally {
      upload.disabled = false;
    }
  });

  remove.addEventListener("click", async () => {
    clearErrors(form);
    remove.disabled = true;
    try {
      await api("auth/me/avatar/", { method: "DELETE" });
      changed(null, "Avatar removed: your initials are shown instead.");
    } catch (error) {
      showError(form, error);
    } finally {
      remove.disabled = false;
    }
  });

  show(current);
  section.dataset.avatarReady = "true";
}

const section = $("[data-avatar-settings]");
if (section) signedInUser().then((user) => setUp(section, user));
