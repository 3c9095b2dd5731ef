/*!
 * PromptCraft live leaderboard widget.
 * <script src="https://promptcraft.example/static/widgets/leaderboard.js" data-board="weekly" data-size="10"></script>
 * Optional: data-target="<css selector>" renders into that element instead of after the script;
 * data-title overrides the heading; data-theme="light" or "dark" fixes its colours (by default it
 * follows the visitor's system). A classic script (no modules) so that any page can embed it.
 */
(function () {
  "use strict";

  var BOARDS = { weekly: "This week", monthly: "This month", "all-time": "All time" };
  // Light by default; dark when the visitor's system is (unless data-theme="light"), or always with
  // data-theme="dark": the host page knows best which of its own themes is showing.
  var DARK = "--lb-bg:#171c2b;--lb-text:#e7e9f1;--lb-muted:#a6adbf;--lb-border:#323a50;--lb-line:#262c3b;--lb-rank:#a5b4fc;--lb-up:#5fd79a;--lb-down:#ff9a8f;--lb-warn:#f5b656;--lb-flash:#3a3110;--lb-shadow:rgba(0,0,0,.5)";
  var STYLE = [
    ":host{all:initial;display:block;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
      "--lb-bg:#fff;--lb-text:#1b1f2a;--lb-muted:#545b6b;--lb-border:#d9dce5;--lb-line:#eef0f4;--lb-rank:#4338ca;--lb-up:#116b3a;--lb-down:#b42318;--lb-warn:#8a4b00;--lb-flash:#fef3c7;--lb-shadow:rgba(16,24,40,.1);" +
      "color:var(--lb-text)}",
    "@media (prefers-color-scheme:dark){:host(:not([data-theme=light])){" + DARK + "}}",
    ":host([data-theme=dark]){" + DARK + "}",
    ".lb{background:var(--lb-bg);border:1px solid var(--lb-border);border-radius:12px;padding:12px 14px;max-width:480px;box-shadow:0 1px 3px var(--lb-shadow)}",
    ".head{display:flex;justify-content:space-between;align-items:center;gap:8px;margin:0 0 8px}",
    "h2{font-size:16px;margin:0}",
    ".live{font-size:12px;font-weight:700;color:var(--lb-up)}.live.off{color:var(--lb-warn)}",
    "ol{list-style:none;margin:0;padding:0;position:relative}",
    "li{display:grid;grid-template-columns:2.2em 28px 1fr auto 1.2em;align-items:center;gap:8px;padding:6px 4px;border-bottom:1px solid var(--lb-line);background:var(--lb-bg);will-change:transform}",
    "li:last-child{border-bottom:0}",
    ".rank{font-weight:800;color:var(--lb-rank);text-align:right;font-variant-numeric:tabular-nums}",
    ".name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".avatar{width:28px;height:28px;border-radius:50%;object-fit:cover;display:block;background:#e8e7fb}",
    ".initials{display:flex;align-items:center;justify-content:center;color:#fff;font-size:11px;font-weight:700}",
    ".initials::before{content:attr(data-initials)}",
    ".score{font-weight:700;font-variant-numeric:tabular-nums}",
    ".move{font-size:12px;text-align:center}.up{color:var(--lb-up)}.down{color:var(--lb-down)}",
    "li.flash{animation:flash 1.2s ease}",
    "li.enter{animation:enter .5s ease}",
    "@keyframes flash{0%{background:var(--lb-flash)}100%{background:var(--lb-bg)}}",
    "@keyframes enter{from{opacity:0;transform:translateX(-12px)}to{opacity:1;transform:none}}",
    ".empty,.note{color:var(--lb-muted);font-size:14px;margin:6px 0 0}",
    "@media (prefers-reduced-motion:reduce){li{transition:none!important;animation:none!important}}",
  ].join("");

  function socketBase(scriptSrc) {
    var url = new URL(scriptSrc, window.location.href);
    return (url.protocol === "https:" ? "wss://" : "ws://") + url.host;
  }

  /** Up to two letters for a username (the same as the site's pages show). */
  function initials(username) {
    var name = String(username || "?").trim();
    var words = name.split(/[\s._-]+/).filter(Boolean);
    var letters = words.length > 1 ? Array.from(words[0])[0] + Array.from(words[1])[0] : Array.from(name).slice(0, 2).join("");
    return letters.toUpperCase() || "?";
  }

  function hue(text) {
    var hash = 0;
    Array.from(String(text)).forEach(function (ch) {
      hash = (hash * 31 + ch.codePointAt(0)) % 360;
    });
    return hash;
  }

  /** The user's picture (a URL relative to the PromptCraft server), or their initials. */
  function avatar(user, origin) {
    var node;
    if (user.avatar_url) {
      node = el("img", "avatar");
      node.src = new URL(user.avatar_url, origin).href;
      node.alt = "";
      node.width = 28;
      node.height = 28;
      node.decoding = "async";
    } else {
      node = el("span", "avatar initials");
      node.setAttribute("aria-hidden", "true");
      node.setAttribute("data-initials", initials(user.username));
      node.style.background = "hsl(" + hue(user.username || "?") + " 45% 42%)";
    }
    node.setAttribute("data-avatar", user.avatar_url ? "image" : "initials");
    return node;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Render a live board into `target`; returns {destroy()}. */
  function mount(target, options) {
    var board = BOARDS[options.board] ? options.board : "weekly";
    var origin = String(options.base || "").replace(/^ws/, "http"); // ws(s)://host -> http(s)://host
    var size = Math.min(100, Math.max(1, parseInt(options.size, 10) || 10));
    var root = target.shadowRoot || target.attachShadow({ mode: "open" });
    root.innerHTML = "";
    var style = el("style");
    style.textContent = STYLE;
    var box = el("section", "lb");
    box.setAttribute("aria-label", "PromptCraft leaderboard, " + BOARDS[board]);
    box.setAttribute("data-board", board);
    var head = el("div", "head");
    head.appendChild(el("h2", "", options.title || "Leaderboard · " + BOARDS[board]));
    var live = el("span", "live off", "Connecting…");
    live.setAttribute("role", "status");
    head.appendChild(live);
    var list = el("ol");
    list.setAttribute("aria-live", "polite");
    var note = el("p", "note");
    note.hidden = true;
    box.appendChild(head);
    box.appendChild(list);
    box.appendChild(note);
    root.appendChild(style);
    root.appendChild(box);

    var rows = {}; // user id -> {node, rank, score}
    var ws = null;
    var attempts = 0;
    var everOpened = false;
    var stopped = false;
    var timer = null;

    function render(entries) {
      var before = {};
      Object.keys(rows).forEach(function (id) {
        before[id] = rows[id].node.getBoundingClientRect().top;
      });
      var seen = {};
      var fragment = document.createDocumentFragment();
      entries.forEach(function (entry) {
        var user = entry.user || {};
        var id = String(user.id || user.username);
        seen[id] = true;
        var row = rows[id];
        if (!row) {
          var node = el("li", "enter");
          node.appendChild(el("span", "rank"));
          node.appendChild(el("span", "avatar"));
          node.appendChild(el("span", "name"));
          node.appendChild(el("span", "score"));
          node.appendChild(el("span", "move"));
          row = rows[id] = { node: node, rank: entry.rank, score: entry.score };
        } else {
          row.node.classList.remove("enter");
        }
        var node = row.node;
        var move = node.querySelector(".move");
        move.className = "move";
        move.textContent = "";
        if (entry.rank < row.rank) {
          move.className = "move up";
          move.textContent = "▲";
          move.setAttribute("aria-label", "up");
        } else if (entry.rank > row.rank) {
          move.className = "move down";
          move.textContent = "▼";
          move.setAttribute("aria-label", "down");
        }
        if (entry.score !== row.score) {
          node.classList.remove("flash");
          void node.offsetWidth;
          node.classList.add("flash");
        }
        if (row.avatarUrl !== (user.avatar_url || null) || !row.avatarShown) {
          node.replaceChild(avatar(user, origin), node.children[1]);
          row.avatarUrl = user.avatar_url || null;
          row.avatarShown = true;
        }
        row.rank = entry.rank;
        row.score = entry.score;
        node.setAttribute("data-user-id", id);
        node.setAttribute("data-username", user.username || "");
        node.setAttribute("data-rank", String(entry.rank));
        node.setAttribute("data-score", String(entry.score));
        node.querySelector(".rank").textContent = entry.rank;
        node.querySelector(".name").textContent = user.username || "?";
        node.querySelector(".score").textContent = Number(entry.score).toLocaleString("en-US") + " XP";
        fragment.appendChild(node);
      });
      Object.keys(rows).forEach(function (id) {
        if (!seen[id]) delete rows[id];
      });
      list.replaceChildren(fragment);
      // FLIP: slide every row that moved from where it was to where it is now.
      Object.keys(rows).forEach(function (id) {
        if (before[id] === undefined) return;
        var node = rows[id].node;
        var delta = before[id] - node.getBoundingClientRect().top;
        if (!delta) return;
        node.style.transition = "none";
        node.style.transform = "translateY(" + delta + "px)";
        requestAnimationFrame(function () {
          requestAnimationFrame(function () {
            node.style.transition = "transform .6s cubic-bezier(.2,.8,.2,1)";
            node.style.transform = "";
          });
        });
      });
      note.hidden = entries.length > 0;
      if (!entries.length) note.textContent = "No scores yet: be the first!";
      box.setAttribute("data-updated", String(Date.now()));
    }

    function setLive(on, text) {
      live.className = on ? "live" : "live off";
      live.textContent = text;
    }

    function connect() {
      if (stopped) return;
      setLive(false, everOpened ? "Reconnecting…" : "Connecting…");
      ws = new WebSocket(options.base + "/ws/leaderboard/" + encodeURIComponent(board) + "/?size=" + size);
      ws.onopen = function () {
        attempts = 0;
        everOpened = true;
        setLive(true, "● Live");
        note.hidden = true;
      };
      ws.onmessage = function (event) {
        var message;
        try {
          message = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        if (message.type === "leaderboard.snapshot" || message.type === "leaderboard.update") {
          render(message.entries || []);
        }
      };
      ws.onclose = function () {
        if (stopped) return;
        attempts += 1;
        if (!everOpened && attempts >= 3) {
          setLive(false, "Offline");
          note.hidden = false;
          note.textContent = "The live leaderboard is not available on this site.";
        } else {
          setLive(false, "Reconnecting…");
        }
        var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempts, 6)));
        timer = setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
      };
    }

    connect();
    return {
      destroy: function () {
        stopped = true;
        clearTimeout(timer);
        if (ws) ws.close(1000);
      },
    };
  }

  window.PromptCraftLeaderboard = { mount: mount };

  var script = document.currentScript;
  if (!script || !script.src) return;
  var base = socketBase(script.src);
  var target;
  var selector = script.getAttribute("data-target");
  if (selector) target = document.querySelector(selector);
  if (!target) {
    target = document.createElement("div");
    target.className = "promptcraft-leaderboard";
    script.parentNode.insertBefore(target, script.nextSibling);
  }
  var theme = script.getAttribute("data-theme");
  if (theme === "light" || theme === "dark") target.setAttribute("data-theme", theme);
  var controller = mount(target, {
    board: script.getAttribute("data-board") || "weekly",
    size: script.getAttribute("data-size") || "10",
    title: script.getAttribute("data-title") || "",
    base: base,
  });
  target.promptcraftLeaderboard = controller;
  target.promptcraftBase = base;
})();
