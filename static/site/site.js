/* Booking site: small enhancements that work without inline scripts (CSP). */
(function () {
  "use strict";
  // A form that came back with errors: move focus to the summary at the top so screen reader
  // and keyboard users start from the list of problems (each links to its field).
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // The hold countdown on the details and code pages.
  const hold = document.querySelector(".countdown[data-expires]");
  if (hold) {
    const endsAt = parseInt(hold.dataset.expires, 10) * 1000;
    const clock = hold.querySelector(".countdown__clock");
    const announce = document.getElementById("countdown-alert");
    let warned = false;
    const tick = () => {
      const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 60 && !warned) {
        warned = true;
        announce.textContent = "One minute left on your hold.";
      }
      if (left === 0) {
        hold.classList.add("countdown--ended");
        const text = hold.querySelector(".countdown__text");
        const again = document.createElement("a");
        again.href = location.pathname;
        again.textContent = "See the nearest free times";
        text.replaceChildren("Your hold on this time has ended. ", again, ".");
        announce.textContent = "Your hold on this time has ended.";
        return;
      }
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  // Times are the clinic's. Say so only when the device's clock would show a different time
  // (a device set to UTC agrees with London in winter), not merely a different zone name.
  const note = document.querySelector("[data-clinic-tz]");
  if (note) {
    try {
      const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const wallClock = (zone) => new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      }).format(new Date());
      if (mine && wallClock(mine) !== wallClock(note.dataset.clinicTz)) {
        note.textContent = "Times are shown in the clinic's local time (" + note.dataset.clinicTz +
          "), which is different from your device's time zone (" + mine + ").";
        note.setAttribute("role", "note");
      }
    } catch (error) { /* an old browser without time zones keeps the plain note */ }
  }
  const pickerError = document.getElementById("picker-error");
  if (pickerError) pickerError.focus();

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

  // Screening follow-ups ("When did you stop?") show only after the answer that makes them
  // relevant. Without this script every question shows and the server applies the same rule
  // (hidden questions are not required and their answers are discarded); hidden inputs are
  // disabled so nothing typed into them is sent.
  const screening = document.querySelector(".screening-form");
  if (screening) {
    const followUps = Array.from(screening.querySelectorAll("[data-shown-when]"));
    const isShown = (block) => !block.hidden;
    const answerOf = (key) => {
      const checked = screening.querySelector("input[type=radio][name='" + CSS.escape(key) + "']:checked");
      if (!checked || checked.disabled) return "";
      return checked.value;
    };
    const apply = () => {
      // In page order: a follow-up's question always comes before it, so a hidden question
      // hides its own follow-ups too.
      for (const block of followUps) {
        const parent = screening.querySelector("input[name='" + CSS.escape(block.dataset.shownWhen) + "']");
        const parentBlock = parent ? parent.closest(".screening-question") : null;
        const shown = !parentBlock || (isShown(parentBlock) && answerOf(block.dataset.shownWhen) === block.dataset.shownWhenAnswer);
        block.hidden = !shown;
        for (const field of block.querySelectorAll("input, textarea, select")) field.disabled = !shown;
      }
    };
    for (const note of screening.querySelectorAll(".condition-note")) note.remove();
    screening.addEventListener("change", apply);
    apply();
  }
})();
