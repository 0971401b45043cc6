// /notifications: a notification arriving over the live stream joins the top of the list (a
// grouped one moves up, "Ana and 3 others…"), announced politely; marks made in place update
// the list (the bell follows through canopy:live "unread").
(function () {
  "use strict";

  var list = document.getElementById("notification-list");
  if (!list) return;
  var announcer = document.getElementById("notifications-live");
  var markAll = document.getElementById("mark-all");
  var empty = document.getElementById("notifications-empty");

  function arrived(notification) {
    if (list.dataset.page !== "first" || !notification || !notification.id) return;
    fetch("/notifications/item?id=" + encodeURIComponent(notification.id), {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var holder = document.createElement("ol");
        holder.innerHTML = html; // our own fragment: everything from people is escaped
        var item = holder.querySelector("li.notification");
        if (!item) return;
        var before = list.querySelector('li[data-id="' + CSS.escape(item.dataset.id) + '"]');
        if (before) before.remove();
        list.insertBefore(item, list.firstChild);
        if (window.htmx) window.htmx.process(item);
        if (window.canopy && window.canopy.localiseTimes) window.canopy.localiseTimes(item);
        if (empty) empty.hidden = true;
        if (markAll) {
          markAll.hidden = false;
          markAll.querySelector('input[name="up_to"]').value = item.dataset.id;
        }
        if (announcer) {
          announcer.textContent = (announcer.dataset.template || "{text}").replace(
            "{text}", notification.text || ""
          );
        }
      });
  }

  function markRead(item) {
    item.classList.remove("unread");
    var badge = item.querySelector(".unread-badge");
    if (badge) badge.remove();
    var form = item.querySelector("form.mark-one");
    if (form) {
      var hadFocus = form.contains(document.activeElement);
      form.remove();
      var link = item.querySelector(".text a");
      if (hadFocus && link) link.focus();
    }
  }

  document.addEventListener("canopy:live", function (event) {
    if (event.detail && event.detail.type === "notification") arrived(event.detail.data);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    var form = event.detail.elt;
    if (form === markAll) {
      list.querySelectorAll("li.unread").forEach(markRead);
    } else if (form.matches && form.matches("form.mark-one")) {
      markRead(form.closest("li.notification"));
    }
  });
})();
