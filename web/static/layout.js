// A table too wide for the screen scrolls inside itself (app.css, phones): give it a place in
// the tab order so it can be scrolled from the keyboard.
(function () {
  "use strict";
  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll("table.grid"), function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
      } else if (!scrolls && table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
  window.addEventListener("resize", mark);
})();
