// The hold countdown on the details and code pages (the hold's end is in data-expires).
(function () {
  var box = document.querySelector("[data-expires]");
  if (!box) return;
  var ends = parseInt(box.dataset.expires, 10) * 1000, clock = box.querySelector(".countdown__clock");
  var warned = false;
  function tick() {
    var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    if (left <= 60 && !warned) { warned = true; document.getElementById("countdown-alert").textContent = "One minute left on your hold."; }
    if (left === 0) {
      box.classList.add("countdown--ended");
      box.querySelector(".countdown__text").innerHTML = "Your hold on this time has ended. <a href=\"" + location.pathname + "\">See the nearest free times</a>.";
      document.getElementById("countdown-alert").textContent = "Your hold on this time has ended.";
      return;
    }
    setTimeout(tick, 1000);
  }
  tick();
})();
