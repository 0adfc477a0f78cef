"""The waitlist per service and day (who waits, in offer order; the freed times of the day and
each offer's outcome), and adding a client to it from the desk."""

from __future__ import annotations

from datetime import date

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bookings.selectors import booking as booking_selectors
from bookings.selectors.staff import client_for_staff
from clinic.errors import ApplicationError, ValidationFailed
from clinic.models import Service
from clinic.parsing import id_or_none, local_date_or_none
from waitlist import selectors
from waitlist.models import PartOfDay, WaitlistEntry
from waitlist.services import waitlist_join
from workspace.views.access import current_location, render_staff, staff_member_required


@require_http_methods(["GET", "POST"])
@staff_member_required
def waitlist_page(request: HttpRequest) -> HttpResponse:
    """GET: the waitlist for a service (or all) on a day. POST: add a client to it."""
    location = current_location(request)
    source = request.POST if request.method == "POST" else request.GET
    today = timezone.now().astimezone(location.zone).date()
    day: date = local_date_or_none(source.get("day"), region=location.country) or today
    service_id = id_or_none(source.get("service"))
    services = Service.objects.filter(is_active=True).order_by("name")
    service = services.filter(pk=service_id).first() if service_id else None
    client_id = id_or_none(source.get("client"))
    client = client_for_staff(actor=request.user, client_id=client_id) if client_id else None
    error = None
    if request.method == "POST":
        try:
            if client is None or service is None:
                raise ValidationFailed("Choose a client and a service.", field="service")
            entry = waitlist_join(
                client=client,
                service=booking_selectors.service_for_booking(service_id=service.pk),
                location=location,
                windows=[(day, part) for part in request.POST.getlist("part")],
                actor=request.user,
                channel=WaitlistEntry.Channel.STAFF,
            )
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"{entry.client.first_name} is on the waitlist.")
            return redirect(
                f"{reverse('staff-waitlist')}?day={day.isoformat()}&service={service.pk}"
            )
    start, end = selectors.day_bounds(on=day, location=location)
    return render_staff(
        request,
        "workspace/waitlist.html",
        {
            "nav": "waitlist",
            "location": location,
            "day": day,
            "service": service,
            "services": services,
            "client": client,
            "parts": PartOfDay.choices,
            "entries": selectors.waitlist_entries(
                actor=request.user, location=location, service=service, on=day
            ),
            "freed_times": selectors.freed_times_between(
                actor=request.user, location=location, start=start, end=end
            ),
            "error": error,
        },
        status=error.status if error else 200,
    )
