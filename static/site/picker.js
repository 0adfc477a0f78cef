// The time picker: say when the device's time zone differs from the clinic's, and move focus
// to an error so screen readers announce it.
(function () {
  var note = document.querySelector("[data-clinic-tz]");
  try {
    var mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (note && mine && mine !== note.dataset.clinicTz) {
      note.textContent = "Times are shown in the clinic's local time (" + note.dataset.clinicTz + "), which is different from your device's time zone (" + mine + ").";
      note.setAttribute("role", "note");
    }
  } catch (e) {}
  var err = document.getElementById("picker-error");
  if (err) err.focus();
})();
