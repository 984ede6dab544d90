// Live word counters: any field with data-word-limit shows "251 of 250 words" under it, in red when over.
// The server checks the same limit (Motion.clean), counting words the same way: runs of non-space.
(function () {
  "use strict";
  document.querySelectorAll("[data-word-limit]").forEach(function (field) {
    var limit = parseInt(field.getAttribute("data-word-limit"), 10);
    var counter = document.createElement("p");
    counter.className = "word-count";
    counter.id = field.id + "_words";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);

    function update() {
      var text = field.value.trim();
      var words = text ? text.split(/\s+/).length : 0;
      counter.textContent = words + " of " + limit + " words";
      counter.classList.toggle("word-count-over", words > limit);
    }
    field.addEventListener("input", update);
    update();
  });
})();

// A print button where printing makes sense (shown only when this script runs).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
