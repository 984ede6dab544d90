// Live updates without a reload: every element with data-live-url fetches its server-rendered fragment every
// few seconds and swaps it in. Pauses while the tab is hidden; stops if the session ends (no login page inside).
(function () {
  "use strict";
  document.querySelectorAll("[data-live-url]").forEach(function (box) {
    var url = box.getAttribute("data-live-url");
    var every = parseInt(box.getAttribute("data-live-interval"), 10) || 5000;
    var status = document.querySelector("[data-live-status]");
    var timer = null;
    var busy = false;

    function say(text) { if (status) { status.lastChild.textContent = " " + text; } }

    function refresh() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" }, redirect: "manual" })
        .then(function (response) {
          if (response.type === "opaqueredirect" || response.status === 403) {
            clearInterval(timer);
            say("Not updating: log in again.");
            return null;
          }
          if (!response.ok) { throw new Error(response.status); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          // Keep the folded panels as the reader left them (by motion and position in it).
          var open = Array.prototype.map.call(box.querySelectorAll("[data-motion] details"), function (d) {
            var motion = d.closest("[data-motion]");
            return motion.getAttribute("data-motion") + ":" +
              Array.prototype.indexOf.call(motion.querySelectorAll("details"), d) + ":" + d.open;
          });
          box.innerHTML = html;
          open.forEach(function (key) {
            var parts = key.split(":");
            var motion = box.querySelector('[data-motion="' + parts[0] + '"]');
            var d = motion && motion.querySelectorAll("details")[parseInt(parts[1], 10)];
            if (d) { d.open = parts[2] === "true"; }
          });
          say("Live: updated " + new Date().toLocaleTimeString("en-GB"));
        })
        .catch(function () { say("Live: connection lost, retrying…"); })
        .then(function () { busy = false; });
    }

    timer = setInterval(refresh, every);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  });
})();
