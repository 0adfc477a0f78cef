"""The printable "Today" sheet per practitioner."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from bookings.selectors.calendar import calendar_practitioners, own_practitioner
from clinic.parsing import local_date_or_none
from workspace.selectors.today import today_sheet
from workspace.views.access import current_location, render_staff, staff_member_required


@staff_member_required
def today_page(request: HttpRequest) -> HttpResponse:
    """``?practitioner=<id>`` (a practitioner gets their own) and ``?date=YYYY-MM-DD``
    (default today at the location)."""
    location = current_location(request)
    practitioners = list(calendar_practitioners(actor=request.user, location=location))
    wanted = request.GET.get("practitioner", "")
    practitioner = next((p for p in practitioners if str(p.id) == wanted), None)
    if practitioner is None and not wanted:
        practitioner = own_practitioner(request.user)
    # Any date the calendar can show (clinic.parsing bounds it); anything else means today.
    day = local_date_or_none(
        request.GET.get("date"), region=location.country
    ) or timezone.localdate(timezone=location.zone)
    sheet = today_sheet(actor=request.user, location=location, day=day, practitioner=practitioner)
    return render_staff(
        request,
        "workspace/today.html",
        {"nav": "today", "sheet": sheet, "practitioners": practitioners, "location": location},
    )
