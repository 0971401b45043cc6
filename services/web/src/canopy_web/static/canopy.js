// Canopy's own script: small, no framework. htmx (from npm) does the partial updates.
// - every htmx request carries the session's CSRF token;
// - <time datetime> shows in the reader's time zone;
// - a failed htmx request shows the server's message in the alert region.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  var timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function localiseTimes(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = timeFormat.format(when);
        el.title = when.toISOString();
      }
    });
  }

  function flash(message) {
    var box = document.getElementById("flash");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    localiseTimes(event.target);
  });
  document.addEventListener("htmx:responseError", function (event) {
    var holder = document.createElement("div");
    holder.innerHTML = event.detail.xhr.responseText; // our own escaped fragment
    flash(holder.textContent.trim() || event.detail.xhr.statusText);
  });
  document.addEventListener("htmx:sendError", function () {
    flash(document.body.dataset.offline || "Canopy cannot be reached. Check your connection.");
  });

  window.canopy = { csrfToken: csrfToken, localiseTimes: localiseTimes, flash: flash };
  document.addEventListener("DOMContentLoaded", function () { localiseTimes(document); });
})();
