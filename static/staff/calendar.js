/* Staff calendar: EventCalendar fed by the staff JSON API (/api/v1/staff/...).
   Times travel as floating local wall-clock strings in the location's zone; the calendar's
   timeZone option is the location's UTC offset so the "now" line is right. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("calendar-config").textContent);
  const alertBox = document.getElementById("calendar-alert");
  const csrfToken = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const api = "/api/v1/staff";

  function pad(number) { return String(number).padStart(2, "0"); }
  // EventCalendar hands out Dates whose local fields are the calendar's wall clock.
  function wallClock(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":00";
  }
  function dateOnly(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }
  function showAlert(message) {
    alertBox.textContent = message;
    alertBox.hidden = false;
  }
  function clearAlert() { alertBox.hidden = true; alertBox.textContent = ""; }

  function columnOf(appointment) {
    return config.by === "room"
      ? (appointment.room_id ? "r" + appointment.room_id : null)
      : "p" + appointment.practitioner_id;
  }

  function toEvent(appointment) {
    const classes = ["appt", "status-" + appointment.status, "kind-" + appointment.service_kind];
    let title = appointment.client_name + " · " + appointment.service_name;
    if (appointment.health_recheck === "changed") {
      classes.push("recheck-changed");
      title = "⚠ Health changed: review · " + title;
    } else if (appointment.health_recheck === "unanswered") {
      classes.push("recheck-unanswered");
      title = "Health check not answered · " + title;
    }
    return {
      id: String(appointment.id),
      resourceIds: [columnOf(appointment)],
      start: appointment.local_start,
      end: appointment.local_end,
      title: title,
      classNames: classes,
      editable: appointment.can_move,
      durationEditable: false,
      extendedProps: { appointment: appointment },
    };
  }

  function toBackground(block) {
    return {
      id: "bg-" + block.kind + "-" + block.resource_id + "-" + block.local_start,
      resourceIds: [block.resource_id],
      start: block.local_start,
      end: block.local_end,
      display: "background",
      classNames: ["bg-" + block.kind],
      title: block.reason || "",
    };
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || ("Request failed (" + response.status + ")"));
    return body;
  }

  async function postJson(url, payload) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      let message = body.message || ("Request failed (" + response.status + ")");
      if (body.alternatives && body.alternatives.length) {
        const format = new Intl.DateTimeFormat("en-GB", {
          timeZone: config.zone, weekday: "short", hour: "2-digit", minute: "2-digit",
        });
        message += " Free nearby: " + body.alternatives.map((at) => format.format(new Date(at))).join(", ") + ".";
      }
      throw new Error(message);
    }
    return body;
  }

  let calendar = null;
  // The working hours and time off last drawn, so a click outside them can say why (null
  // while they load: then the server decides).
  let shownBlocks = null;

  async function fetchEvents(info) {
    const range = "location=" + config.location + "&from=" + dateOnly(info.start) + "&to=" + dateOnly(info.end);
    shownBlocks = null;
    const [appointments, blocks] = await Promise.all([
      getJson(api + "/appointments?" + range),
      getJson(api + "/calendar/blocks?" + range + "&by=" + config.by),
    ]);
    shownBlocks = blocks;
    return appointments.map(toEvent).filter((event) => event.resourceIds[0]).concat(blocks.map(toBackground));
  }

  const dayAndTime = new Intl.DateTimeFormat(config.locale, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false });
  function whyUnavailable(resource, date) {
    if (shownBlocks === null) return null;
    const at = wallClock(date);
    const mine = shownBlocks.filter((block) => block.resource_id === resource.id && block.local_start <= at && at < block.local_end);
    const off = mine.find((block) => block.kind === "time_off");
    const when = dayAndTime.format(date);
    if (off) return resource.title + " is unavailable at " + when + (off.reason ? " (" + off.reason + ")" : "") + ". Choose another time.";
    if (!mine.some((block) => block.kind === "working")) {
      return (config.by === "room" ? resource.title + " is closed" : resource.title + " is not working") +
        " at " + when + ". White times are bookable; grey ones are outside working hours.";
    }
    return null;
  }

  // The week shows one column at a time (seven days of a whole team would not fit).
  const allResources = config.resources;
  let weekColumn = allResources.some((resource) => resource.id === config.weekColumn) ? config.weekColumn : (allResources[0] || {}).id;
  const switcher = document.getElementById("week-switcher");
  function markWeekColumn() {
    switcher.querySelectorAll("button[data-column]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.column === weekColumn));
    });
  }
  function showWeekColumn(id) {
    weekColumn = id;
    markWeekColumn();
    calendar.setOption("resources", allResources.filter((resource) => resource.id === id));
  }
  markWeekColumn();
  switcher.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-column]");
    if (button) showWeekColumn(button.dataset.column);
  });

  // Open on the present: today's grid starts an hour before now.
  function initialScrollTime() {
    const now = new Date();
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: config.zone }).format(now);
    if (config.date !== today) return config.slotMinTime;
    const hour = Number(new Intl.DateTimeFormat("en-GB", { timeZone: config.zone, hour: "2-digit", hour12: false }).format(now));
    return pad(Math.max(0, hour - 1)) + ":00:00";
  }

  function openPanel(url) {
    window.htmx.ajax("GET", url, { target: "#panel", swap: "innerHTML" });
  }

  async function moveAppointment(info) {
    clearAlert();
    const payload = { start: wallClock(info.event.start) };
    // Dropped into another column: "p<id>" is a practitioner, "r<id>" a room.
    if (info.newResource) {
      const id = Number(info.newResource.id.slice(1));
      if (config.by === "room") payload.room_id = id; else payload.practitioner_id = id;
    }
    try {
      await postJson(api + "/appointments/" + info.event.id + "/reschedule", payload);
      calendar.refetchEvents();
      openPanel("/staff/appointments/" + info.event.id + "/");
    } catch (error) {
      info.revert();
      showAlert(error.message);
    }
  }

  // EventCalendar marks its grid up as a table whose rows also hold the toolbar and the
  // events, which assistive technology cannot make sense of (axe: aria-required-children), and
  // renders events as <article role="button">. Drop the table roles, and make each event a
  // real link to its appointment page (the click still opens the side panel).
  const TABLE_ROLES = new Set(["table", "rowgroup", "row", "columnheader", "rowheader", "cell", "gridcell", "listitem", "list"]);
  const TABLE_ATTRIBUTES = ["aria-colspan", "aria-colindex", "aria-rowindex", "aria-rowspan"];
  function repairAccessibility(root) {
    root.querySelectorAll("[role]").forEach((element) => {
      if (TABLE_ROLES.has(element.getAttribute("role"))) element.removeAttribute("role");
    });
    if (root.getAttribute("role") && TABLE_ROLES.has(root.getAttribute("role"))) root.removeAttribute("role");
    root.querySelectorAll(TABLE_ATTRIBUTES.map((name) => "[" + name + "]").join(",")).forEach((element) => {
      TABLE_ATTRIBUTES.forEach((name) => element.removeAttribute(name));
    });
    root.querySelectorAll("article.ec-event[role], article.ec-event[tabindex]").forEach((element) => {
      element.removeAttribute("role");
      element.removeAttribute("tabindex");
    });
    const unit = document.querySelector(".calendar-layout.is-week") ? "week" : "day";
    root.querySelectorAll("button.ec-prev").forEach((button) => button.setAttribute("aria-label", "Previous " + unit));
    root.querySelectorAll("button.ec-next").forEach((button) => button.setAttribute("aria-label", "Next " + unit));
    // The grid scrolls: keyboard users must be able to reach it to scroll it.
    root.querySelectorAll(".ec-main, .ec-body").forEach((region) => {
      if (region.scrollHeight > region.clientHeight && !region.hasAttribute("tabindex")) {
        region.setAttribute("tabindex", "0");
        region.setAttribute("role", "region");
        region.setAttribute("aria-label", "Appointments");
      }
    });
  }
  const calendarElement = document.getElementById("calendar");
  let repairQueued = false;
  new MutationObserver(() => {
    if (repairQueued) return;
    repairQueued = true;
    window.requestAnimationFrame(() => {
      repairQueued = false;
      repairAccessibility(calendarElement);
    });
  }).observe(calendarElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["role", "tabindex"] });

  function eventContent(info) {
    if (info.event.display === "background") return { html: "" };
    const link = document.createElement("a");
    link.className = "event-link";
    link.href = "/staff/appointments/" + info.event.id + "/";
    link.draggable = false;
    const when = document.createElement("time");
    when.className = "event-time";
    when.textContent = info.timeText;
    const what = document.createElement("span");
    what.className = "event-title";
    what.textContent = info.event.title;
    link.append(when, " ", what);
    return { domNodes: [link] };
  }

  calendar = EventCalendar.create(document.getElementById("calendar"), {
    view: config.view === "week" ? "resourceTimeGridWeek" : "resourceTimeGridDay",
    date: config.date,
    timeZone: config.timeZone,
    resources: config.view === "week" && allResources.length > 1
      ? allResources.filter((resource) => resource.id === weekColumn) : allResources,
    // Day view: practitioner names above the columns; week view: dates, then practitioners.
    views: {
      resourceTimeGridDay: { datesAboveResources: false },
      resourceTimeGridWeek: { datesAboveResources: true },
    },
    headerToolbar: { start: "prev,today,next", center: "title", end: "resourceTimeGridDay,resourceTimeGridWeek" },
    buttonText: { today: "Today", resourceTimeGridDay: "Day", resourceTimeGridWeek: "Week" },
    slotMinTime: config.slotMinTime,
    slotMaxTime: config.slotMaxTime,
    slotDuration: "00:15:00",
    slotLabelInterval: "01:00",
    slotHeight: 18,
    height: Math.max(480, window.innerHeight - 220) + "px",
    scrollTime: initialScrollTime(),
    locale: config.locale,
    firstDay: 1,
    allDaySlot: false,
    nowIndicator: true,
    editable: config.canEdit,
    eventDurationEditable: false,
    pointer: true,
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    dayHeaderFormat: { weekday: "short", day: "numeric", month: "short" },
    eventSources: [{ events: fetchEvents }],
    // Seven days of columns are narrow: first names only in the week view.
    resourceLabelContent(info) {
      const full = document.createElement("span");
      full.className = "label-full";
      full.textContent = info.resource.title;
      const short = document.createElement("span");
      short.className = "label-short";
      short.textContent = info.resource.title.split(" ")[0];
      return { domNodes: [full, short] };
    },
    datesSet(info) {
      const isWeek = info.view.type === "resourceTimeGridWeek";
      document.querySelector(".calendar-layout").classList.toggle("is-week", isWeek);
      switcher.hidden = !isWeek || allResources.length < 2;
      // Options cannot change while the calendar draws: switch columns right after.
      window.setTimeout(() => {
        const shown = calendar.getOption("resources");
        if (isWeek && allResources.length > 1 && shown.length !== 1) showWeekColumn(weekColumn);
        else if (!isWeek && shown.length !== allResources.length) calendar.setOption("resources", allResources);
      }, 0);
    },
    eventContent: eventContent,
    eventClick(info) {
      if (info.event.display === "background") return;
      // The event is a link to its page; here it opens in the side panel instead.
      if (info.jsEvent) info.jsEvent.preventDefault();
      openPanel("/staff/appointments/" + info.event.id + "/");
    },
    dateClick(info) {
      if (!info.resource) return;
      clearAlert();
      const reason = whyUnavailable(info.resource, info.date);
      if (reason) {
        showAlert(reason);
        return;
      }
      // Resource ids are "p<id>" (practitioner columns) or "r<id>" (room columns).
      const column = config.by === "room" ? "&room=" : "&practitioner=";
      openPanel("/staff/appointments/new/?location=" + config.location +
        column + info.resource.id.slice(1) + "&start=" + encodeURIComponent(wallClock(info.date)));
    },
    eventDrop: moveAppointment,
    loading(isLoading) { document.body.classList.toggle("is-loading", isLoading); },
  });
  window.staffCalendar = calendar;

  // Other desks' changes appear without a reload.
  window.setInterval(() => calendar.refetchEvents(), config.pollSeconds * 1000);
  // The panel's HTMX forms announce changes so the grid refreshes at once.
  document.body.addEventListener("appointment-changed", () => calendar.refetchEvents());
  // Below the week grid the panel is out of sight: bring it into view when it changes.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "panel" && document.querySelector(".calendar-layout.is-week")) {
      event.target.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  });
})();
