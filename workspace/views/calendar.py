from __future__ import annotations

from datetime import datetime, time

from django.db.models import Max, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from bookings.selectors.calendar import calendar_practitioners, calendar_rooms
from clinic.models import WorkingHours
from clinic.parsing import date_or_none, whole_number_or_none
from workspace.views.access import current_location, render_staff, staff_member_required


def _utc_offset(location) -> str:
    offset = datetime.now(tz=location.zone).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def _poll_seconds(request: HttpRequest) -> int:
    """How often the page refetches, so other desks' changes appear (``?poll=`` for tests)."""
    seconds = whole_number_or_none(request.GET.get("poll"))
    return min(max(seconds, 2), 120) if seconds is not None else 20


@staff_member_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The day/week calendar. Columns come from the selectors (a practitioner gets only their
    own); appointments and background blocks are fetched by the page from the staff API."""
    location = current_location(request)
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    practitioners = calendar_practitioners(actor=request.user, location=location)
    resources: list[dict[str, object]]
    if by == "room":
        resources = [
            {"id": f"r{room.id}", "title": room.name}
            for room in calendar_rooms(actor=request.user, location=location)
        ]
    else:
        resources = [
            {
                "id": f"p{practitioner.id}",
                "title": practitioner.display_name,
                "extendedProps": {"colour": practitioner.calendar_colour},
            }
            for practitioner in practitioners
        ]
    today = timezone.localdate(timezone=location.zone)
    # The grid spans the front desk's hours and anyone's working hours, whichever is wider.
    hours = WorkingHours.objects.filter(location=location).aggregate(
        first=Min("start_time"), last=Max("end_time")
    )
    desk = [span for span in location.desk_week().values() if span is not None]
    day_start = min(filter(None, [*(opens for opens, _ in desk), hours["first"]]), default=time(9))
    day_end = max(filter(None, [*(closes for _, closes in desk), hours["last"]]), default=time(19))
    config = {
        "location": location.id,
        "by": by,
        "view": "week" if request.GET.get("view") == "week" else "day",
        "date": (date_or_none(request.GET.get("date")) or today).isoformat(),
        "timeZone": _utc_offset(location),
        "zone": location.timezone,
        "slotMinTime": day_start.strftime("%H:%M:%S"),
        "slotMaxTime": day_end.strftime("%H:%M:%S"),
        "resources": resources,
        "pollSeconds": _poll_seconds(request),
        # Dates and times as the clinic writes them (en-GB for a UK clinic), not as the
        # browser's own language would.
        "locale": f"en-{location.country or 'GB'}",
        "weekColumn": request.GET.get("column", ""),
        "canEdit": True,
    }
    return render_staff(
        request,
        "workspace/calendar.html",
        {
            "nav": "calendar",
            "location": location,
            "by": by,
            "calendar_config": config,
            "practitioners": practitioners,
            # With one column (a practitioner's own calendar) the week grid has no room for
            # its name under each day, so the heading carries it.
            "single_column": resources[0]["title"] if len(resources) == 1 else "",
        },
    )
