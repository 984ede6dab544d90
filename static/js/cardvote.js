// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Filter panels start open on a wide screen, folded on a phone.
  if (window.matchMedia("(min-width: 64em)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (el) { el.open = true; });
  }

  // The main menu shows as a row on a wide screen through CSS (::details-content); older browsers get it opened.
  if (window.CSS && !CSS.supports("selector(::details-content)") && window.matchMedia("(min-width: 75em)").matches) {
    document.querySelectorAll("details.site-menu").forEach(function (el) { el.open = true; });
  }

  // Show the consent fields that belong to the chosen action (all stay visible without JavaScript).
  document.querySelectorAll("[data-show-when]").forEach(function (block) {
    var rule = block.getAttribute("data-show-when").split("=");
    var radios = document.querySelectorAll('input[name="' + rule[0] + '"]');
    function update() {
      var chosen = document.querySelector('input[name="' + rule[0] + '"]:checked');
      block.hidden = !(chosen && chosen.value === rule[1]);
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  });

  // Print buttons (a script file, not onclick="": the Content-Security-Policy allows no inline script).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Leave unused filters out of the address, so it stays short enough to read and share.
  document.querySelectorAll("form[data-filter-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (field.value === "") { field.disabled = true; }
      });
    });
  });

  // Coming back with the browser's Back button restores the page as it was: switch the fields on again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-filter-form] [disabled]").forEach(function (field) { field.disabled = false; });
  });
})();
