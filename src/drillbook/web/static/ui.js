// Small page helpers that would otherwise need inline style (the CSP forbids it).
(function () {
  "use strict";
  document.querySelectorAll("[data-weight]").forEach(function (el) {
    el.style.flex = String(Number(el.dataset.weight) || 1);
  });
})();
