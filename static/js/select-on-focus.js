// Fields marked data-select-on-focus (the calendar address) select their whole text when
// focused, ready to copy. A script file rather than an onfocus attribute: the
// Content-Security-Policy runs no inline handlers.
(function () {
  for (const field of document.querySelectorAll("[data-select-on-focus]")) {
    field.addEventListener("focus", () => field.select());
  }
})();
