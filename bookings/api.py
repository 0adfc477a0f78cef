"""Public booking API: availability, book, and manage a booking through its signed token.

Views parse input, call one selector or service, and shape the answer. Rules live in
``bookings.services`` and ``bookings.availability``; errors are ``clinic.errors`` types that the
project API maps to ``{"error", "message", "field"}``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from bookings import availability, services
from bookings.auth import staff_auth
from bookings.models import Appointment
from bookings.selectors import booking as selectors
from bookings.services.verification import verification_mark_used, verification_token_redeem
from bookings.tokens import manage_token_for
from clinic.api import ErrorOut, token_links
from clinic.errors import ApplicationError, ValidationFailed
from clinic.models import Location, Practitioner, Service
from clinic.parsing import ApiBool, ApiDate, AwareApiDatetime, Id
from clinic.roles import Actor

router = Router(tags=["bookings"])

MAX_WINDOW_DAYS = 62


class SlotOut(Schema):
    start: datetime
    end: datetime
    practitioner_ids: list[int]


class DayOut(Schema):
    date: date
    slots: list[SlotOut]


class AvailabilityOut(Schema):
    service: int
    location: int
    timezone: str
    days: list[DayOut]


class AvailabilityQuery(Schema):
    service: Id
    location: Id
    from_date: ApiDate = Field(..., alias="from", examples=["2026-12-01"])
    to_date: ApiDate = Field(..., alias="to", examples=["2026-12-07"])
    practitioner: Id | None = None


class ClientIn(Schema):
    first_name: str = Field(..., min_length=1, max_length=80, examples=["Maya"])
    last_name: str = Field("", max_length=80, examples=["Okafor"])
    phone: str = Field(..., min_length=1, max_length=32, examples=["+447911123456"])
    email: str = Field("", max_length=254, examples=["maya@example.com"])


class BookingIn(Schema):
    service: Id
    location: Id
    start: AwareApiDatetime = Field(..., examples=["2026-12-02T10:00:00+00:00"])
    practitioner: Id | None = None
    client: ClientIn
    sms_consent: ApiBool = False
    consent_wording: str = Field("", max_length=1000)
    email_consent: ApiBool = Field(
        False,
        description="The client agreed to email too: confirmations and the care-page link also "
        "go by email, and care texts that cannot reach the phone go by email instead",
    )
    email_consent_wording: str = Field("", max_length=1000)
    verification_token: str | None = Field(
        None,
        description=(
            "Proof of the client's phone from `POST /verifications/{id}/check`. Required unless "
            "the call is authenticated as staff (session or Bearer API token)."
        ),
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "service": 1,
                    "location": 1,
                    "start": "2026-12-02T10:00:00+00:00",
                    "client": {"first_name": "Maya", "last_name": "Okafor", "phone": "07911123456"},
                    "sms_consent": True,
                    "consent_wording": "Texts about my booking and aftercare",
                    "verification_token": "from POST /verifications/{id}/check",
                }
            ]
        }
    }


class AppointmentOut(Schema):
    id: int
    status: str
    service: int
    service_name: str
    location: int
    practitioner: int
    practitioner_name: str
    start: datetime
    end: datetime
    version: int
    can_change_online: bool


class BookingOut(Schema):
    appointment: AppointmentOut
    manage_token: str
    manage_url: str


class RescheduleIn(Schema):
    start: AwareApiDatetime = Field(..., examples=["2026-12-03T14:30:00+00:00"])
    practitioner: Id | None = None


class CancelIn(Schema):
    reason: str = Field("", max_length=300, examples=["Something came up at work"])


def appointment_out(appointment: Appointment) -> AppointmentOut:
    zone = appointment.location.zone
    return AppointmentOut(
        id=appointment.pk,
        status=appointment.status,
        service=appointment.service_id,
        service_name=appointment.service.name,
        location=appointment.location_id,
        practitioner=appointment.practitioner_id,
        practitioner_name=appointment.practitioner.display_name,
        start=appointment.start_at.astimezone(zone),
        end=appointment.end_at.astimezone(zone),
        version=appointment.version,
        can_change_online=selectors.appointment_can_change_online(appointment=appointment),
    )


def booking_out(appointment: Appointment) -> BookingOut:
    token = manage_token_for(appointment)
    return BookingOut(
        appointment=appointment_out(appointment),
        manage_token=token,
        manage_url=settings.PUBLIC_BASE_URL + reverse("site-manage", args=[token]),
    )


@router.get("/availability", response={200: AvailabilityOut, 422: ErrorOut})
def get_availability(request: HttpRequest, query: Query[AvailabilityQuery]) -> HttpResponse:
    """Free start times per local day, ISO 8601 with the clinic's UTC offset."""
    if query.to_date < query.from_date:
        raise ValidationFailed("'to' must be on or after 'from'.", field="to")
    if (query.to_date - query.from_date).days >= MAX_WINDOW_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_WINDOW_DAYS} days at a time.", field="to")
    # A refusal (unknown service, closed location…) raises out of compute and is not kept.
    body = availability.cached_answer(
        location_id=query.location,
        question=("v1", query.service, query.practitioner, query.from_date, query.to_date),
        compute=lambda: _availability_body(query),
    )
    return HttpResponse(body, content_type="application/json")


def _availability_body(query: AvailabilityQuery) -> bytes:
    service, location, practitioner = selectors.booking_subjects(
        service_id=query.service, location_id=query.location, practitioner_id=query.practitioner
    )
    starts = availability.free_starts(
        service=service,
        location=location,
        start_date=query.from_date,
        end_date=query.to_date,
        practitioner=practitioner,
    )
    # A month is thousands of slots: they are written straight to JSON from epoch seconds in
    # the documented AvailabilityOut shape (tests validate it against the schema) instead of
    # being built and validated as thousands of schema objects.
    clock = availability.LocalClock(
        zone=location.zone, start_date=query.from_date, end_date=query.to_date
    )
    days: dict[int, dict[str, Any]] = {
        day.toordinal(): {"date": day.isoformat(), "slots": []}
        for day in (
            query.from_date + timedelta(days=offset)
            for offset in range((query.to_date - query.from_date).days + 1)
        )
    }
    visits = clock.visits([start for start, _ in starts], service.duration_minutes * 60)
    for (ordinal, start_text, end_text), (_, practitioner_ids) in zip(visits, starts, strict=True):
        days[ordinal]["slots"].append(
            {"start": start_text, "end": end_text, "practitioner_ids": practitioner_ids}
        )
    body = {
        "service": service.pk,
        "location": location.pk,
        "timezone": location.timezone,
        "days": list(days.values()),
    }
    return orjson.dumps(body)


def _staff_caller(request: HttpRequest) -> Actor:
    """The staff user when the call carries valid staff credentials; None for the public (a
    bad credential, a failed CSRF check or a login without a staff role count as public)."""
    try:
        return staff_auth(request)
    except (ApplicationError, HttpError):
        return None


def _manage_token_links(status: int) -> dict:
    """Links from an answer carrying ``manage_token`` to what the token opens."""
    return token_links(
        status=status,
        field="manage_token",
        operations={
            "GetBooking": "bookings_api_get_booking",
            "CancelBooking": "bookings_api_cancel_booking",
            "RescheduleBooking": "bookings_api_reschedule_booking",
            "GetScreening": "bookings_screening_api_get_questionnaire",
            "SubmitScreening": "bookings_screening_api_post_screening",
        },
    )


@router.post(
    "/bookings",
    response={201: BookingOut, 401: ErrorOut, 409: ErrorOut, 410: ErrorOut, 422: ErrorOut},
    openapi_extra=_manage_token_links(201),
)
def create_booking(request: HttpRequest, payload: BookingIn) -> Status:
    """Book a slot for a client. 409 `slot_taken` comes with `alternatives`; eligibility refusals
    are 409 with the reason as `error` (e.g. `consultation_required`).

    Anonymous calls must prove the client's phone: send the `verification_token` from
    `POST /verifications/{id}/check` for the same number. Without it the answer is 401
    `verification_required`; an expired token, one already used for a booking, or one for
    another phone is 422 `verification_invalid`. A token books once. Staff calls (session or
    Bearer token) need no token. A client may have at most the clinic's limit of upcoming
    online bookings per service (409 `upcoming_limit`)."""
    service, location, practitioner = selectors.booking_subjects(
        service_id=payload.service,
        location_id=payload.location,
        practitioner_id=payload.practitioner,
    )
    staff_user = _staff_caller(request)
    # Spending the proof and booking commit together: a refused booking leaves the token
    # unspent for another try, and a token never books twice. The booking is this transaction
    # (no savepoint of its own), so a refusal's alternatives, or the client's visit in the way,
    # are found once it has rolled back.
    with (
        services.refusals_completed_after_rollback(
            service=service, location=location, around=payload.start, practitioner=practitioner
        ),
        transaction.atomic(),
    ):
        proof = None
        if staff_user is None:
            proof = verification_token_redeem(
                token=payload.verification_token,
                phone=services.normalise_phone(payload.client.phone, region=location.country),
            )
        appointment = _book(
            payload,
            service=service,
            location=location,
            practitioner=practitioner,
            staff_user=staff_user,
        )
        if proof is not None:
            verification_mark_used(verification=proof, appointment=appointment)
    return Status(201, booking_out(appointment))


def _book(
    payload: BookingIn,
    *,
    service: Service,
    location: Location,
    practitioner: Practitioner | None,
    staff_user: Actor,
) -> Appointment:
    is_staff_call = staff_user is not None
    client = services.client_register(
        first_name=payload.client.first_name,
        last_name=payload.client.last_name,
        phone=payload.client.phone,
        email=payload.client.email,
        sms_consent=payload.sms_consent,
        consent_wording=payload.consent_wording,
        consent_method="api",
        email_consent=payload.email_consent,
        email_consent_wording=payload.email_consent_wording,
        location=location,
        phone_verified=not is_staff_call,
    )
    appointment = services.appointment_book(
        client=client,
        service=service,
        location=location,
        start_at=payload.start,
        practitioner=practitioner,
        actor=staff_user,
        channel=Appointment.Channel.API,
        savepoint=False,
    )
    return appointment


@router.get("/bookings/{token}", response={200: AppointmentOut, 404: ErrorOut, 410: ErrorOut})
def get_booking(request: HttpRequest, token: str) -> AppointmentOut:
    return appointment_out(selectors.appointment_from_manage_token(token=token))


@router.post(
    "/bookings/{token}/cancel",
    response={200: AppointmentOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut},
)
def cancel_booking(request: HttpRequest, token: str, payload: CancelIn) -> AppointmentOut:
    appointment = selectors.appointment_from_manage_token(token=token)
    return appointment_out(
        services.appointment_cancel(
            appointment=appointment, reason=payload.reason, actor_label="client"
        )
    )


@router.post(
    "/bookings/{token}/reschedule",
    response={200: BookingOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut, 422: ErrorOut},
    openapi_extra=_manage_token_links(200),
)
def reschedule_booking(request: HttpRequest, token: str, payload: RescheduleIn) -> BookingOut:
    """Move the booking; the answer carries a fresh manage token for the new time."""
    appointment = selectors.appointment_from_manage_token(token=token)
    practitioner = selectors.practitioner_for_booking(
        practitioner_id=payload.practitioner, location=appointment.location
    )
    moved = services.appointment_reschedule(
        appointment=appointment,
        start_at=payload.start,
        practitioner=practitioner,
        actor_label="client",
    )
    return booking_out(moved)
