/* Small behaviours shared by staff pages (no framework beyond htmx). */
(function () {
  "use strict";
  // Picking a client from the search results in the booking form.
  // Behaviours declared with data attributes, since the CSP allows no inline handlers.
  document.addEventListener("change", function (event) {
    const select = event.target.closest("[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
  document.addEventListener("click", function (event) {
    const copyable = event.target.closest("[data-select-on-click]");
    if (copyable) copyable.select();
  });
  document.addEventListener("click", function (event) {
    const pick = event.target.closest("button.pick");
    if (pick) {
      const chosen = document.getElementById("chosen-client");
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "client";
      hidden.value = pick.dataset.clientId;
      const line = document.createElement("p");
      line.className = "chosen";
      const name = document.createElement("strong");
      name.textContent = pick.dataset.clientName;
      line.append(name, " · " + pick.dataset.clientPhone);
      chosen.replaceChildren(hidden, line);
      document.getElementById("client-results").replaceChildren();
      const newClient = document.querySelector("details.new-client");
      if (newClient) newClient.open = false;
      return;
    }
    // "Free nearby" suggestions fill the start field of the form they belong to.
    const useTime = event.target.closest("button.use-time");
    if (useTime) {
      const scope = useTime.closest("article, section, body");
      const start = scope.querySelector("input[name=start]");
      if (start) {
        start.value = useTime.dataset.start;
        start.focus();
        const details = start.closest("details");
        if (details) details.open = true;
      }
      return;
    }
    const fieldLink = event.target.closest("a.error-field-link");
    if (fieldLink) {
      const field = document.getElementById(fieldLink.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        const details = field.closest("details");
        if (details) details.open = true;
        field.focus();
      }
      return;
    }
    if (event.target.closest("button.print-sheet")) {
      window.print();
      return;
    }
    const clear = event.target.closest("button.clear-client");
    if (clear) clear.closest("#chosen-client").replaceChildren();
  });

  // An error naming a field sits at the top of its form: link it to the field, mark the field
  // invalid, and move focus to the error so keyboard and screen reader users hear it first.
  function linkErrorsToFields(root) {
    root.querySelectorAll(".error[data-error-field]:not([data-linked])").forEach((box) => {
      box.dataset.linked = "true";
      const scope = box.closest("article, section, form, main") || document;
      const field = scope.querySelector("[name='" + box.dataset.errorField + "']:not([type=hidden])");
      const message = box.querySelector(".error-message");
      if (field && field.id && message) {
        const link = document.createElement("a");
        link.className = "error-field-link";
        link.href = "#" + field.id;
        link.textContent = message.textContent;
        message.replaceChildren(link);
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", box.id);
      }
    });
    const first = root.querySelector(".error[role=alert]");
    if (first && root !== document) first.focus();
  }
  linkErrorsToFields(document);
  document.body.addEventListener("htmx:afterSettle", (event) => linkErrorsToFields(event.target));
})();
