// The import progress bar: ask the server how far the worker has got, once a second; reload when done.
(function () {
  "use strict";
  var bar = document.getElementById("import-progress");
  if (!bar) { return; }
  var text = document.getElementById("import-progress-text");
  var url = bar.getAttribute("data-progress-url");
  var started = Date.now();
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });

  function poll() {
    if (leaving) { return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (leaving) { return; }
        if (state.status === "gone") {
          text.textContent = "This upload was cancelled or has expired.";
          return;
        }
        if (state.status !== "checking" && state.status !== "importing") {
          window.location.reload();
          return;
        }
        bar.max = Math.max(state.total, 1);
        bar.value = state.done;
        text.textContent = state.done + " of " + state.total + " rows";
        // Poll for at most an hour; the page can always be reloaded by hand.
        if (Date.now() - started < 3600 * 1000) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
