// The feed pages' script (home, compose, threads): no framework, loaded after canopy.js.
// - the "new posts" banner: shown when the live stream says the home feed has a newer head;
// - @mention and #tag completion in compose textareas: a listbox under the text, driven from
//   the keyboard (arrows, Enter or Tab to take, Escape to close), fed by /compose/people and
//   /compose/tags (JSON; labels are set as text, never as HTML);
// - after htmx posted a form: the form is emptied and the list's empty note hidden.
(function () {
  "use strict";

  // --- new posts banner ------------------------------------------------------------------
  document.addEventListener("canopy:live", function (event) {
    var detail = event.detail || {};
    if (detail.type !== "feed") return;
    var banner = document.getElementById("new-posts");
    if (!banner) return;
    var newest = detail.data && detail.data.newest;
    if (newest && newest === banner.dataset.newest) return; // already showing it
    var link = banner.querySelector("a");
    if (link) link.hidden = false;
  });

  // --- completion --------------------------------------------------------------------------
  // The token being typed right before the caret: "@na" or "#rel" (handles: letters, digits,
  // "_", ".", "-"; tags: letters, digits, "_").
  var TOKEN = /(^|[^\w@#])([@#])([\w.-]{1,64})$/u;
  var SOURCES = { "@": "/compose/people", "#": "/compose/tags" };

  function completer(area) {
    var list = document.getElementById(area.dataset.complete);
    var status = document.getElementById(area.id + "-status");
    var items = [];
    var active = -1;
    var token = null;
    var pending = null;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      area.removeAttribute("aria-activedescendant");
      if (pending) pending.abort();
      pending = null;
    }

    function announce(text) {
      if (status) status.textContent = text;
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        area.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        area.removeAttribute("aria-activedescendant");
      }
    }

    function take(index) {
      var item = items[index];
      if (!item || !token) return;
      var caret = area.selectionStart;
      var before = area.value.slice(0, token.start);
      var after = area.value.slice(caret);
      var text = token.sigil + item.value + " ";
      area.value = before + text + after;
      var at = before.length + text.length;
      area.setSelectionRange(at, at);
      close();
      announce("");
      area.focus();
    }

    function show(found) {
      list.textContent = "";
      items = found;
      found.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var label = document.createElement("span");
        label.textContent = item.label;
        option.appendChild(label);
        if (token.sigil === "@") {
          var handle = document.createElement("span");
          handle.className = "handle";
          handle.textContent = " @" + item.value + (item.hint ? " · " + item.hint : "");
          option.appendChild(handle);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the text
          take(i);
        });
        list.appendChild(option);
      });
      list.hidden = found.length === 0;
      if (found.length) {
        highlight(0);
        announce(area.dataset.countLabel.replace("{count}", found.length));
      } else {
        area.removeAttribute("aria-activedescendant");
        announce(area.dataset.noneLabel);
      }
    }

    function lookUp() {
      var caret = area.selectionStart;
      var match = area.selectionEnd === caret && TOKEN.exec(area.value.slice(0, caret));
      if (!match) {
        token = null;
        close();
        return;
      }
      token = { sigil: match[2], start: caret - match[3].length - 1 };
      if (pending) pending.abort();
      pending = new AbortController();
      var url = SOURCES[token.sigil] + "?q=" + encodeURIComponent(match[3]);
      fetch(url, { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(show)
        .catch(function (error) { if (error.name !== "AbortError") close(); });
    }

    area.addEventListener("input", lookUp);
    area.addEventListener("blur", close);
    area.addEventListener("keydown", function (event) {
      if (list.hidden || !items.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + items.length) % items.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        if (active < 0) return;
        event.preventDefault();
        take(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
        announce("");
      }
    });
  }

  // --- after htmx posted a compose form ------------------------------------------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.classList || !form.classList.contains("compose-form")) return;
    var slot = document.getElementById(form.id + "-error");
    if (slot) slot.textContent = "";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form.classList || !form.classList.contains("compose-form")) return;
    var xhr = event.detail.xhr;
    if (!event.detail.successful || xhr.getResponseHeader("HX-Retarget")) return;
    form.reset();
    var target = form.getAttribute("hx-target").replace("#", "");
    document.querySelectorAll('[data-empty-for="' + target + '"]').forEach(function (note) {
      note.hidden = true;
    });
  });

  function start() {
    document.querySelectorAll("textarea[data-complete]").forEach(completer);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
