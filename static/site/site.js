/* Booking site: small enhancements that work without inline scripts (CSP). */
(function () {
  "use strict";
  // A form that came back with errors: move focus to the summary at the top so screen reader
  // and keyboard users start from the list of problems (each links to its field).
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    // A group of radio buttons is linked by its fieldset: focus its first choice.
    const field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea") || target;
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
})();
