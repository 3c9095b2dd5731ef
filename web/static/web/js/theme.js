/*
 * The colour theme, applied before the first paint: a classic script loaded (blocking) in <head>,
 * not an inline one, so that a Content-Security-Policy may forbid inline scripts.
 * "system" (the default) follows prefers-color-scheme through app.css; "light" and "dark" set
 * <html data-theme>. The header's picker ([data-theme-select]) stores the choice in localStorage;
 * other tabs follow it. Every change dispatches "themechange" on window (the charts redraw).
 */
(function () {
  "use strict";

  var KEY = "promptcraft-theme";
  var CHOICES = ["system", "light", "dark"];
  var root = document.documentElement;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "system";
    } catch (e) {
      return "system"; // storage blocked: the system preference still applies
    }
  }

  function apply(choice) {
    if (choice === "system") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", choice);
    var select = document.querySelector("[data-theme-select]");
    if (select) select.value = choice;
    window.dispatchEvent(new CustomEvent("themechange", { detail: { choice: choice } }));
  }

  function choose(choice) {
    try {
      if (choice === "system") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, choice);
    } catch (e) {
      // not stored: the choice holds for this page only
    }
    apply(choice);
  }

  apply(stored());

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-theme-select]");
    if (!select) return;
    select.value = stored();
    select.addEventListener("change", function () {
      choose(CHOICES.indexOf(select.value) >= 0 ? select.value : "system");
    });
  });

  window.addEventListener("storage", function (event) {
    if (event.key === KEY || event.key === null) apply(stored());
  });

  if (window.matchMedia) {
    var query = window.matchMedia("(prefers-color-scheme: dark)");
    var changed = function () {
      if (stored() === "system") window.dispatchEvent(new CustomEvent("themechange", { detail: { choice: "system" } }));
    };
    if (query.addEventListener) query.addEventListener("change", changed);
  }
})();
