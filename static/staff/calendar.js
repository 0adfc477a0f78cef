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

  async function fetchEvents(info) {
    const range = "location=" + config.location + "&from=" + dateOnly(info.start) + "&to=" + dateOnly(info.end);
    const [appointments, blocks] = await Promise.all([
      getJson(api + "/appointments?" + range),
      getJson(api + "/calendar/blocks?" + range + "&by=" + config.by),
    ]);
    return appointments.map(toEvent).filter((event) => event.resourceIds[0]).concat(blocks.map(toBackground));
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

  const calendar = EventCalendar.create(document.getElementById("calendar"), {
    view: config.view === "week" ? "resourceTimeGridWeek" : "resourceTimeGridDay",
    date: config.date,
    timeZone: config.timeZone,
    resources: config.resources,
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
    scrollTime: "08:00:00",
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
      document.querySelector(".calendar-layout").classList.toggle("is-week", info.view.type === "resourceTimeGridWeek");
    },
    eventClick(info) {
      if (info.event.display === "background") return;
      openPanel("/staff/appointments/" + info.event.id + "/");
    },
    dateClick(info) {
      if (!info.resource) return;
      clearAlert();
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
