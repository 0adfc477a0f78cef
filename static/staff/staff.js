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
    const clear = event.target.closest("button.clear-client");
    if (clear) clear.closest("#chosen-client").replaceChildren();
  });
})();
