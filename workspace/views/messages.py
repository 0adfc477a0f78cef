"""Staff pages about messages: timelines (partials the appointment and client pages load),
the inbox, the outbox dashboard, and the manager reports.

Access is decided by the bookings selectors (``appointment_for_staff``/``client_for_staff``
apply "practitioners see only their own") and by the services' ``actor=`` role checks.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import access
from bookings.selectors.staff import appointment_for_staff, client_for_staff
from clinic import roles
from clinic.errors import ApplicationError, NotFound, ValidationFailed
from clinic.parsing import date_or_none, parse_local_date
from reminders.backends import backend_reports_delivery
from reminders.models import InboundMessage, Message
from reminders.selectors import messages_for_appointment, outbox_counts, sms_blocked_reason
from reminders.services.outbox import (
    inbound_mark_handled,
    message_retry,
    message_send_adhoc,
)
from workspace.selectors.messages import (
    client_timeline,
    inbox_sections,
    outbox_messages,
    outbox_reasons,
    retried_message_ids,
)
from workspace.selectors.reports import (
    bookings_per_week,
    consultation_conversion,
    money_by_month,
    no_show_rate,
    reconciliation_mismatches,
    report_range,
    waitlist_recovery,
    weeks_in,
)
from workspace.views.access import (
    current_location,
    redirect_to_next,
    render_staff,
    staff_member_required,
)

OUTBOX_PAGE_SIZE = 100
DASHBOARD_STATUSES = (
    "scheduled",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "skipped",
    "cancelled",
)
# Statuses whose delivery is settled one way or the other: the denominator of the delivery rate.
SETTLED_STATUSES = ("sent", "delivered", "undelivered", "failed")


@staff_member_required
def appointment_messages(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Messages planned and sent for one appointment, with delivery status (panel partial)."""
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    return render_staff(
        request,
        "workspace/_messages.html",
        {
            "outbound": messages_for_appointment(appointment=appointment),
            "zone": appointment.location.zone,
            "sms_blocked": sms_blocked_reason(appointment.client),
        },
    )


def _client_messages_response(request, client, *, error=None, status=200) -> HttpResponse:
    return render_staff(
        request,
        "workspace/_client_timeline.html",
        {"client": client, "timeline": client_timeline(client=client), "error": error},
        status=status,
    )


@staff_member_required
def client_messages(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's timeline: outbound with statuses, inbound replies (opt-outs, confirmations),
    and the ad-hoc message form."""
    client = client_for_staff(actor=request.user, client_id=client_id)
    return _client_messages_response(request, client)


@require_POST
@staff_member_required
def client_send_message(request: HttpRequest, client_id: int) -> HttpResponse:
    """An ad-hoc message through the outbox (same consent rules, same dispatcher)."""
    client = client_for_staff(actor=request.user, client_id=client_id)
    try:
        message_send_adhoc(client=client, body=request.POST.get("body", ""), actor=request.user)
    except ApplicationError as error:
        return _client_messages_response(request, client, error=error, status=error.status)
    if request.headers.get("HX-Request"):
        return _client_messages_response(request, client)
    flash.success(request, "Message queued.")
    return redirect_to_next(request, "staff-client", client.id)


@staff_member_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Replies waiting for staff: urgent aftercare replies first (with appointment and
    practitioner), then the rest, newest first."""
    sections = inbox_sections(actor=request.user)
    return render_staff(request, "workspace/inbox.html", {"nav": "inbox", "inbox": sections})


@require_POST
@staff_member_required
def inbox_handle(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = InboundMessage.objects.filter(id=inbound_id).select_related("client").first()
    if inbound is None:
        raise NotFound("No such reply")
    access.check_client_access(actor=request.user, client=inbound.client)
    reply = request.POST.get("reply", "").strip()
    if reply:
        if inbound.client is None:
            raise ValidationFailed(
                "This number is not a known client; call them instead.", field="reply"
            )
        message_send_adhoc(client=inbound.client, body=reply, actor=request.user)
    inbound_mark_handled(inbound=inbound, actor=request.user)
    flash.success(request, "Reply sent and marked handled." if reply else "Marked handled.")
    return redirect("staff-inbox")


# Date ranges are ``from``/``to`` everywhere; ``start``/``end`` still work for old links.
RANGE_ALIASES = {"from": "start", "to": "end"}


def _date_param(request: HttpRequest, name: str, default: date) -> date:
    raw = request.GET.get(name) or request.GET.get(RANGE_ALIASES[name], "")
    if not raw:
        return default
    # ISO (links, bookmarks) is moved into the supported years; anything else is read as the
    # location writes dates.
    return date_or_none(raw) or parse_local_date(
        raw, field=name, region=current_location(request).country
    )


def _local_bounds(location, start_on: date, end_on: date) -> tuple[datetime, datetime]:
    if end_on < start_on:
        raise ValidationFailed("The range ends before it starts", field="to")
    zone = location.zone
    return (
        datetime.combine(start_on, time.min, tzinfo=zone),
        datetime.combine(end_on + timedelta(days=1), time.min, tzinfo=zone),
    )


@staff_member_required
def outbox(request: HttpRequest) -> HttpResponse:
    """Counts by status for a date range (inclusive), reasons, filter by status, search by
    number or client name; failed messages have an explicit retry."""
    location = current_location(request)
    today = timezone.localdate(timezone=location.zone)
    start_on = _date_param(request, "from", today - timedelta(days=7))
    end_on = _date_param(request, "to", today + timedelta(days=7))
    start_at, end_at = _local_bounds(location, start_on, end_on)
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    query = request.GET.get("q", "").strip()
    rows = outbox_messages(
        actor=request.user,
        start=start_at,
        end=end_at,
        status=status,
        channel=channel,
        query=query,
    )
    reasons = outbox_reasons(actor=request.user, start=start_at, end=end_at)
    retried_ids = retried_message_ids(messages=rows)
    return render_staff(
        request,
        "workspace/outbox.html",
        {
            "nav": "outbox",
            "counts": outbox_counts(start=start_at, end=end_at),
            "statuses": [(status, Message.Status(status).label) for status in DASHBOARD_STATUSES],
            "rows": rows[:OUTBOX_PAGE_SIZE],
            "reasons": reasons,
            "retried_ids": retried_ids,
            "start_on": start_on,
            "end_on": end_on,
            "status": status,
            "channels": Message.Channel.choices,
            "channel": channel if channel in Message.Channel.values else "",
            "query": query,
            "zone": location.zone,
        },
    )


@require_POST
@staff_member_required
def outbox_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    """Explicit retry: a new outbox row linked to the failed one, never a silent resend."""
    message = Message.objects.filter(id=message_id).select_related("client").first()
    if message is None:
        raise NotFound("No such message")
    access.check_client_access(actor=request.user, client=message.client)
    message_retry(message=message, actor=request.user)
    flash.success(request, "Retry queued as a new message.")
    return redirect_to_next(request, "staff-outbox")


def _bar_chart(bars: list[tuple[str, float]], *, width: int = 560, height: int = 200) -> dict:
    """Geometry for a simple bar chart template (no JavaScript, prints and scales)."""
    top = max((value for _, value in bars), default=0) or 1
    gap, left, bottom, top_margin = 8, 34, 34, 20
    usable = width - left - 10
    bar_width = max(6, (usable - gap * max(len(bars) - 1, 0)) / max(len(bars), 1))
    plot_height = height - bottom - top_margin
    shapes = []
    for index, (label, value) in enumerate(bars):
        bar_height = plot_height * value / top
        shapes.append(
            {
                "x": left + index * (bar_width + gap),
                "y": top_margin + plot_height - bar_height,
                "width": bar_width,
                "height": bar_height,
                "label": label,
                "value": value,
                "label_x": left + index * (bar_width + gap) + bar_width / 2,
                "value_y": top_margin + plot_height - bar_height - 4,
            }
        )
    return {
        "width": width,
        "height": height,
        "bars": shapes,
        "top": top,
        "axis_y": height - bottom,
        "label_y": height - bottom + 14,
        "top_y": top_margin + 4,
    }


def _report_data(request: HttpRequest) -> dict:
    roles.require_role(request.user, roles.MANAGER)
    location = current_location(request)
    today = timezone.localdate(timezone=location.zone)
    # Eight whole weeks centred on this one: bookings made for the coming weeks count too, not
    # only those whose visit is already past.
    this_monday = today - timedelta(days=today.weekday())
    start_on = _date_param(request, "from", this_monday - timedelta(weeks=4))
    end_on = _date_param(request, "to", this_monday + timedelta(weeks=4))
    period = report_range(location=location, start_on=start_on, end_on=end_on)
    weekly = bookings_per_week(actor=request.user, location=location, period=period)
    totals = dict.fromkeys(weeks_in(period), 0)
    for row in weekly:
        totals[row["week_on"]] = totals.get(row["week_on"], 0) + row["bookings"]
    counts = outbox_counts(start=period.start_at, end=period.end_at)
    settled = sum(counts[status] for status in SETTLED_STATUSES)
    reports_delivery = backend_reports_delivery()
    return {
        "location": location,
        "period": period,
        "weekly": weekly,
        "weekly_totals": totals,
        "no_shows": no_show_rate(actor=request.user, location=location, period=period),
        "money": money_by_month(actor=request.user, location=location, period=period),
        "mismatches": reconciliation_mismatches(actor=request.user),
        "conversion": consultation_conversion(actor=request.user, location=location, period=period),
        "waitlist": waitlist_recovery(actor=request.user, location=location, period=period),
        "sms_counts": counts,
        "sms": {
            "settled": settled,
            "delivered": counts["delivered"],
            "reports_delivery": reports_delivery,
            "rate": counts["delivered"] / settled if settled and reports_delivery else None,
        },
    }


@staff_member_required
def reports(request: HttpRequest) -> HttpResponse:
    """Manager reports as server-rendered SVG charts, with CSV downloads."""
    data = _report_data(request)
    weekly_chart = _bar_chart(
        [(week.strftime("%-d %b"), total) for week, total in data["weekly_totals"].items()]
    )
    sms_chart = _bar_chart(
        [
            (Message.Status(status).label, data["sms_counts"][status])
            for status in DASHBOARD_STATUSES
        ]
    )
    return render_staff(
        request,
        "workspace/reports.html",
        {"nav": "reports", **data, "weekly_chart": weekly_chart, "sms_chart": sms_chart},
    )


@staff_member_required
def reports_csv(request: HttpRequest) -> HttpResponse:
    """``?report=bookings`` (per service, practitioner and week) or ``summary`` (rates)."""
    report = request.GET.get("report", "bookings")
    if report not in ("bookings", "summary"):
        raise ValidationFailed("report must be bookings or summary", field="report")
    data = _report_data(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    period = data["period"]
    response["Content-Disposition"] = (
        f'attachment; filename="{report}-{period.start_on}-{period.end_on}.csv"'
    )
    writer = csv.writer(response)
    if report == "bookings":
        writer.writerow(["week_starting", "service", "practitioner", "bookings"])
        for row in data["weekly"]:
            writer.writerow(
                [row["week_on"].isoformat(), row["service"], row["practitioner"], row["bookings"]]
            )
    elif report == "summary":
        writer.writerow(["measure", "numerator", "denominator", "rate"])
        no_shows, conversion, sms = data["no_shows"], data["conversion"], data["sms"]
        writer.writerow(
            ["no_show_rate", no_shows["no_shows"], no_shows["due"], _rate(no_shows["rate"])]
        )
        writer.writerow(
            [
                "consultation_to_treatment",
                conversion["converted"],
                conversion["consultations"],
                _rate(conversion["rate"]),
            ]
        )
        writer.writerow(["sms_delivery_rate", sms["delivered"], sms["settled"], _rate(sms["rate"])])
        waitlist = data["waitlist"]
        writer.writerow(
            [
                "waitlist_claims",
                waitlist["claims"],
                waitlist["offers"],
                _rate(waitlist["claim_rate"]),
            ]
        )
        writer.writerow(["waitlist_freed_times", waitlist["freed_times"], "", ""])
        writer.writerow(["waitlist_recovered_minor", waitlist["recovered_minor"], "", ""])
        for status in DASHBOARD_STATUSES:
            writer.writerow([f"sms_{status}", data["sms_counts"][status], "", ""])
    else:
        raise ValidationFailed("report must be bookings or summary", field="report")
    return response


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
