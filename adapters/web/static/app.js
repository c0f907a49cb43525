// salesbot web console: live updates and confirmations. Our own code,
// no dependencies; served from the binary under the page's
// Content-Security-Policy (script-src 'self').
//
// The server's stream (/web/events) only says which dialog changed; the
// page then fetches itself again and swaps its [data-live] parts (and
// the forms' versions, since the page now shows that version). Nothing
// here builds HTML from data: the server escaped it.
(function () {
  "use strict";

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var q = form.getAttribute("data-confirm");
    if (q && !window.confirm(q)) {
      e.preventDefault();
    }
  });

  var body = document.body;
  var feed = body.getAttribute("data-live");
  if (!feed || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var mine = body.getAttribute("data-dialog");
  var timer = null;
  var busy = false;

  function refresh() {
    timer = null;
    if (busy) {
      later();
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (!res.ok) { throw new Error("status " + res.status); }
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (old) {
          var fresh = doc.getElementById(old.id);
          if (fresh) {
            old.replaceWith(document.importNode(fresh, true));
          }
        });
        var versions = doc.querySelectorAll("input[name=version]");
        if (versions.length > 0) {
          var v = versions[0].value;
          document.querySelectorAll("input[name=version]").forEach(function (el) { el.value = v; });
        }
      })
      .catch(function () { /* the next change or tick tries again */ })
      .finally(function () { busy = false; });
  }

  function later() {
    if (timer === null) {
      timer = window.setTimeout(refresh, 400);
    }
  }

  var live = document.querySelector(".live");
  var es = new EventSource(feed);
  es.addEventListener("open", function () { if (live) { live.hidden = false; } });
  es.addEventListener("error", function () { if (live) { live.hidden = true; } });
  es.addEventListener("dialog", function (e) {
    if (!mine || e.data === mine) {
      later();
    }
  });
  if (!mine) {
    // The inbox's waiting times and SLA colours move with the clock.
    window.setInterval(later, 60000);
  }
})();
