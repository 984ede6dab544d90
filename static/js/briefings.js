// Briefing pages. Compose: a live character/segment counter that counts as the server does (sender's name,
// long names in the merge fields, the STOP line), merge-field buttons, "add another organisation".
// Detail: the Send form submits once; while sending (or paused) the progress fragment is fetched every 2 s and
// swapped in; when nothing is left to send the report is fetched, and again when the briefing is sent or
// cancelled, where polling stops. Everything works without it, by reloading.
(function () {
  "use strict";

  // --- Counter (messaging/text.py: clean, segment_count) ---
  var GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENDED = "^{}\\[~]|€\f";
  var REPLACE = [[/[‘’‚‛′]/g, "'"], [/[“”„‟″«»]/g, '"'], [/[–—―‐‑−•]/g, "-"], [/…/g, "..."],
    [/[\t\u00a0\u2007\u202f\u2009\u200a]/g, " "], [/[\u200b\u200c\u200d\u2060\ufeff]/g, ""], [/\r\n/g, "\n"]];

  function clean(text) {
    text = (text || "").normalize("NFC");
    REPLACE.forEach(function (pair) { text = text.replace(pair[0], pair[1]); });
    return text.trim();
  }

  function pack(costs, single, multi) {
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    if (total <= single) { return costs.length ? 1 : 0; }
    var segments = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > multi) { segments += 1; used = 0; }
      used += cost;
    });
    return segments;
  }

  function count(text) {
    var chars = Array.from(text);
    var gsm = chars.every(function (ch) { return GSM7.indexOf(ch) >= 0 || GSM7_EXTENDED.indexOf(ch) >= 0; });
    if (gsm) {
      return { encoding: "GSM-7", segments: pack(chars.map(function (ch) { return GSM7_EXTENDED.indexOf(ch) >= 0 ? 2 : 1; }), 160, 153), length: chars.length };
    }
    return { encoding: "UCS-2", segments: pack(chars.map(function (ch) { return ch.codePointAt(0) > 0xffff ? 2 : 1; }), 70, 67), length: chars.length };
  }

  var configNode = document.getElementById("sms-counter-config");
  document.querySelectorAll("[data-sms-counter]").forEach(function (field) {
    if (!configNode) { return; }
    var config = JSON.parse(configNode.textContent);
    var motion = field.form.querySelector("[name=motion]");
    var counter = document.createElement("p");
    counter.className = "word-count";
    counter.id = field.id + "_count";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);

    function update() {
      var body = clean(field.value);
      var filled = body.replace(/\{(first_name|organisation|motion)\}/g, function (_, name) {
        if (name === "motion") { return (motion && config.motions[motion.value]) || ""; }
        return "X".repeat(config.longest[name] || 0);
      }).replace(/\{\{/g, "{").replace(/\}\}/g, "}");
      var text = filled;
      if (config.sender && text.toLowerCase().indexOf(config.sender.toLowerCase()) !== 0) {
        text = config.sender + ": " + text;
      }
      var info = count(text + "\n" + config.stop_line);
      var over = info.segments > config.max_segments;
      counter.textContent = body ? info.length + " characters · " + info.segments + " of " + config.max_segments +
        " segments (" + info.encoding + "), with the sender's name, long names and the STOP line" : "";
      counter.classList.toggle("word-count-over", over);
    }
    field.addEventListener("input", update);
    if (motion) { motion.addEventListener("change", update); }
    update();

    document.querySelectorAll("[data-merge-field]").forEach(function (button) {
      button.addEventListener("click", function () {
        var token = "{" + button.getAttribute("data-merge-field") + "}";
        var start = field.selectionStart, end = field.selectionEnd;
        field.value = field.value.slice(0, start) + token + field.value.slice(end);
        field.focus();
        field.setSelectionRange(start + token.length, start + token.length);
        update();
      });
    });
  });

  // --- Another organisation box ---
  document.querySelectorAll("[data-add-organisation]").forEach(function (button) {
    var boxes = document.querySelector("[data-organisation-boxes]");
    if (!boxes) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var last = boxes.querySelector("input:last-of-type");
      var box = last.cloneNode(false);
      box.value = "";
      box.removeAttribute("id");
      box.setAttribute("aria-label", "Another organisation");
      boxes.appendChild(box);
      box.focus();
    });
  });

  // --- Send once: a double click submits one POST (the server would queue nothing twice anyway) ---
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "yes";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); b.textContent = "Sending…"; });
    });
  });

  // --- Live progress ---
  var box = document.querySelector("#briefing-progress[data-live]");
  if (!box) { return; }
  var timer = null;
  var busy = false;

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" }, redirect: "manual" })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 403) { throw new Error("logged out"); }
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      });
  }

  // The report was rendered with the page. Once nothing is left to send it is fetched again (and when a new
  // reply comes in: data-settled holds the number of replies), and once more when the briefing is sent or
  // cancelled; a failed fetch is retried at the next poll.
  function settledState() {
    var node = box.querySelector("[data-settled]");
    return node ? "settled:" + node.getAttribute("data-settled") : "";
  }
  var reportFor = settledState();
  var reportBusy = false;

  function loadReport(state) {
    var report = document.getElementById("briefing-report");
    if (!report || reportBusy) { return; }
    reportBusy = true;
    get(box.getAttribute("data-report-url"))
      .then(function (html) { report.innerHTML = html; reportFor = state; })
      .catch(function () {})
      .then(function () {
        reportBusy = false;
        if (reportFor === "final") { clearInterval(timer); }
      });
  }

  function refresh() {
    if (busy || document.hidden) { return; }
    busy = true;
    get(box.getAttribute("data-progress-url"))
      .then(function (html) {
        box.innerHTML = html;
        var state = box.querySelector("[data-status]");
        var badge = document.getElementById("briefing-status");
        if (state && badge) {
          badge.textContent = state.getAttribute("data-status-label");
          badge.className = "badge briefing-status-" + state.getAttribute("data-status");
        }
        if (!box.querySelector("[data-still-live]")) {
          loadReport("final");  // polling stops once this report is in
        } else if (settledState()) {
          if (reportFor !== settledState()) { loadReport(settledState()); }
        } else {
          reportFor = "";
        }
      })
      .catch(function (error) {
        var note = box.querySelector("[data-live-note]");
        if (error.message === "logged out") {
          clearInterval(timer);
          if (note) { note.textContent = "Not updating: log in again."; }
        } else if (note) {
          note.textContent = "Connection lost, retrying…";
        }
      })
      .then(function () { busy = false; });
  }

  if (box.querySelector("[data-still-live]")) {
    timer = setInterval(refresh, 2000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  }
})();
