// The page's one live stream (/live, Server-Sent Events), for signed-in pages only.
// Each server event is re-dispatched as
//   document.dispatchEvent(new CustomEvent("canopy:live", {detail: {type, data}}))
// with type "notification" (notify's notification), "unread" ({count}) or "feed" ({newest});
// pages listen for it and never open a second stream. The bell follows "unread" here.
// A response that changed marks says so with `HX-Trigger: {"canopy:unread": {"count": n}}`,
// re-dispatched the same way. The browser reconnects by itself (Last-Event-ID); a 401 (the
// session ended) stops it.
(function () {
  "use strict";

  var TYPES = ["notification", "unread", "feed"];
  var source = null;

  function dispatch(type, data) {
    document.dispatchEvent(new CustomEvent("canopy:live", { detail: { type: type, data: data } }));
  }

  function setBell(count) {
    var bell = document.getElementById("bell");
    var badge = document.getElementById("bell-count");
    if (!bell || !badge || typeof count !== "number") return;
    badge.textContent = String(count);
    badge.hidden = count <= 0;
    var label = count > 0 ? bell.dataset.labelSome : bell.dataset.labelNone;
    if (label) bell.setAttribute("aria-label", label.replace("{count}", String(count)));
  }

  function open() {
    if (source || !window.EventSource) return;
    source = new EventSource("/live");
    TYPES.forEach(function (type) {
      source.addEventListener(type, function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        dispatch(type, data);
      });
    });
  }

  function close() {
    if (source) source.close();
    source = null;
  }

  document.addEventListener("canopy:live", function (event) {
    if (event.detail && event.detail.type === "unread") setBell(event.detail.data.count);
  });
  document.addEventListener("canopy:unread", function (event) {
    dispatch("unread", { count: event.detail.count });
  });
  // Leaving the page closes the stream; coming back to it (back/forward cache) opens a new one.
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", open);
  open();
  window.canopy = window.canopy || {};
  window.canopy.setBell = setBell;
})();
