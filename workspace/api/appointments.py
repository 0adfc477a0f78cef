"""Staff API: the calendar's data and every desk action on appointments.

Each endpoint parses, calls one selector/service with ``actor=request.auth`` (the staff user
from a session or Bearer token) and shapes the answer; permissions and rules live in those
functions, so the HTML workspace gets the same answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from bookings import policy
from bookings.auth import staff_auth
from bookings.models import Appointment, Client
from bookings.selectors.calendar import appointments_in_range, calendar_blocks
from bookings.selectors.consultations import health_recheck_states
from bookings.selectors.staff import appointment_for_staff
from bookings.services.staff_appointments import (
    StaffAction,
    appointment_book_by_staff,
    appointment_change_status_by_staff,
    appointment_reschedule_by_staff,
)
from clinic.api import error_responses
from clinic.errors import NotFound, ValidationFailed
from clinic.http import ApiRequest
from clinic.models import Location, Practitioner, Room, Service
from clinic.parsing import ApiDate, ApiDatetime, Id
from clinic.roles import Actor
from clinic.selectors import location_default, locations_active

router = Router(auth=staff_auth, tags=["staff"])


class StaffAppointmentOut(Schema):
    id: int
    status: str
    status_label: str
    start_at: datetime
    end_at: datetime
    local_start: str
    local_end: str
    timezone: str
    version: int
    channel: str
    client_id: int | None
    client_name: str
    client_phone: str
    service_id: int
    service_name: str
    service_kind: str
    practitioner_id: int
    practitioner_name: str
    room_id: int | None
    room_name: str
    location_id: int
    awaiting_consultation_id: int | None
    cancellation_reason: str
    can_move: bool
    allowed_actions: list[str]  # what this caller may do now (bookings.policy.Action values)
    health_recheck: str | None = None  # changed | unchanged | unanswered, for later sessions


class CalendarBlockOut(Schema):
    kind: str
    resource_id: str
    local_start: str
    local_end: str
    reason: str


START_DESCRIPTION = (
    "ISO 8601; without a UTC offset it is wall-clock time at the location (what the calendar "
    "sends)."
)


class StaffBookingIn(Schema):
    client_id: Id
    service_id: Id
    start: ApiDatetime = Field(..., description=START_DESCRIPTION, examples=["2026-12-02T14:00:00"])
    location_id: Id | None = None
    practitioner_id: Id | None = None
    room_id: Id | None = None
    awaiting_consultation_id: Id | None = Field(
        None, description="A booked consultation to hold this treatment behind"
    )
    override_reason: str = Field("", max_length=500)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"client_id": 1, "service_id": 2, "start": "2026-12-02T14:00:00", "room_id": 1}
            ]
        }
    }


class StaffRescheduleIn(Schema):
    start: ApiDatetime = Field(..., description=START_DESCRIPTION, examples=["2026-12-02T15:30:00"])
    practitioner_id: Id | None = None
    room_id: Id | None = None
    reason: str = Field("", max_length=500)
    override_reason: str = Field("", max_length=500)


class StatusIn(Schema):
    action: StaffAction = Field(..., examples=["confirm"])
    reason: str = Field("", max_length=500, description="Required for `cancel`")


class DateRangeQuery(Schema):
    """Local dates ``from`` (inclusive) to ``to`` (exclusive). ``start``/``end`` are the old
    names, still accepted for one release."""

    from_date: ApiDate | None = Field(None, alias="from", examples=["2026-12-01"])
    to_date: ApiDate | None = Field(None, alias="to", examples=["2026-12-08"])
    # Marked deprecated in the schema only: pydantic's own flag warns on every read.
    start: ApiDate | None = Field(
        None, description="Deprecated alias of `from`.", json_schema_extra={"deprecated": True}
    )
    end: ApiDate | None = Field(
        None, description="Deprecated alias of `to`.", json_schema_extra={"deprecated": True}
    )
    location: Id | None = None

    def dates(self) -> tuple[date, date]:
        start_on = self.from_date or self.start
        end_on = self.to_date or self.end
        if start_on is None:
            raise ValidationFailed("Give the first day as `from`.", field="from")
        if end_on is None:
            raise ValidationFailed("Give the day after the last as `to`.", field="to")
        if end_on < start_on:
            raise ValidationFailed("`to` must not be before `from`.", field="to")
        if (end_on - start_on).days > MAX_RANGE_DAYS:
            raise ValidationFailed(f"Ask for at most {MAX_RANGE_DAYS} days.", field="to")
        return start_on, end_on


class AppointmentsQuery(DateRangeQuery):
    practitioner: Id | None = None


class BlocksQuery(DateRangeQuery):
    by: Literal["practitioner", "room"] = "practitioner"


MAX_RANGE_DAYS = 366


def _floating(moment: datetime, location: Location) -> str:
    return moment.astimezone(location.zone).strftime("%Y-%m-%dT%H:%M:%S")


def appointment_out(
    appointment: Appointment, *, actor: Actor, health_recheck: str | None = None
) -> dict:
    location = appointment.location
    allowed = policy.allowed_actions(appointment=appointment, actor=actor)
    client = appointment.client
    return {
        "id": appointment.id,
        "status": appointment.status,
        "status_label": appointment.get_status_display(),
        "start_at": appointment.start_at,
        "end_at": appointment.end_at,
        "local_start": _floating(appointment.start_at, location),
        "local_end": _floating(appointment.end_at, location),
        "timezone": location.timezone,
        "version": appointment.version,
        "channel": appointment.channel,
        "client_id": appointment.client_id,
        "client_name": client.full_name if client else "(held)",
        "client_phone": client.phone if client else "",
        "service_id": appointment.service_id,
        "service_name": appointment.service.name,
        "service_kind": appointment.service.kind,
        "practitioner_id": appointment.practitioner_id,
        "practitioner_name": appointment.practitioner.display_name,
        "room_id": appointment.room_id,
        "room_name": appointment.room.name if appointment.room else "",
        "location_id": appointment.location_id,
        "awaiting_consultation_id": appointment.awaiting_consultation_id,
        "cancellation_reason": appointment.cancellation_reason,
        "can_move": policy.Action.MOVE in allowed,
        "allowed_actions": allowed,
        "health_recheck": health_recheck,
    }


def _location(location_id: int | None) -> Location:
    location = (
        locations_active().filter(id=location_id).first() if location_id else location_default()
    )
    if location is None:
        raise NotFound("No such location", field="location")
    return location


def local_start_at(start: datetime, location: Location) -> datetime:
    """A start sent without an offset is wall-clock time at the location (what the calendar
    sends); one with an offset is taken as is."""
    if start.tzinfo is None:
        return start.replace(tzinfo=location.zone)
    return start


@router.get(
    "/appointments",
    response={200: list[StaffAppointmentOut], **error_responses(404)},
    tags=["staff"],
)
def list_appointments(request: ApiRequest, query: Query[AppointmentsQuery]):
    """Appointments starting in [from, to) (local dates), optionally for one practitioner.
    A practitioner may only ask for their own. 404 for an unknown location."""
    start_on, end_on = query.dates()
    found = list(
        appointments_in_range(
            actor=request.auth,
            location=_location(query.location),
            start_on=start_on,
            end_on=end_on,
            practitioner_id=query.practitioner,
        )
    )
    rechecks = health_recheck_states(appointments=found)
    return [
        appointment_out(
            appointment, actor=request.auth, health_recheck=rechecks.get(appointment.pk)
        )
        for appointment in found
    ]


@router.get(
    "/calendar/blocks",
    response={200: list[CalendarBlockOut], **error_responses(404)},
    tags=["staff"],
)
def list_calendar_blocks(request: ApiRequest, query: Query[BlocksQuery]):
    """Working hours and time off for the calendar's background, in [from, to)."""
    start_on, end_on = query.dates()
    place = _location(query.location)
    blocks = calendar_blocks(
        actor=request.auth, location=place, start_on=start_on, end_on=end_on, by=query.by
    )
    return [
        {
            "kind": block.kind,
            "resource_id": block.resource_id,
            "local_start": _floating(block.start_at, place),
            "local_end": _floating(block.end_at, place),
            "reason": block.reason,
        }
        for block in blocks
    ]


@router.get("/appointments/{appointment_id}", response=StaffAppointmentOut, tags=["staff"])
def get_appointment(request: ApiRequest, appointment_id: Id):
    return appointment_out(
        appointment_for_staff(actor=request.auth, appointment_id=appointment_id), actor=request.auth
    )


def _room(room_id: int | None, location: Location) -> Room | None:
    if room_id is None:
        return None
    room = Room.objects.filter(id=room_id, location=location).first()
    if room is None:
        raise ValidationFailed("No such room at this location", field="room_id")
    return room


@router.post(
    "/appointments",
    response={201: StaffAppointmentOut, **error_responses(404, 409, 410)},
    tags=["staff"],
)
def create_appointment(request: ApiRequest, payload: StaffBookingIn):
    """Book a service for an existing client (channel ``staff``). Errors: 409 slot_taken (with
    alternatives) or an eligibility reason, 422 slot_unavailable/invalid, 403."""
    location = _location(payload.location_id)
    client = Client.objects.filter(id=payload.client_id).first()
    if client is None:
        raise ValidationFailed("No such client", field="client_id")
    service = Service.objects.filter(id=payload.service_id).first()
    if service is None:
        raise ValidationFailed("No such service", field="service_id")
    practitioner = None
    if payload.practitioner_id is not None:
        practitioner = Practitioner.objects.filter(id=payload.practitioner_id).first()
        if practitioner is None:
            raise ValidationFailed("No such practitioner", field="practitioner_id")
    room = _room(payload.room_id, location)
    awaiting = None
    if payload.awaiting_consultation_id is not None:
        awaiting = Appointment.objects.filter(id=payload.awaiting_consultation_id).first()
        if awaiting is None:
            raise ValidationFailed("No such consultation", field="awaiting_consultation_id")
    appointment = appointment_book_by_staff(
        actor=request.auth,
        client=client,
        service=service,
        location=location,
        start_at=local_start_at(payload.start, location),
        practitioner=practitioner,
        awaiting_consultation=awaiting,
        override_reason=payload.override_reason,
        room=room,
    )
    return Status(201, appointment_out(appointment, actor=request.auth))


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: StaffAppointmentOut, **error_responses(409, 410)},
    tags=["staff"],
)
def reschedule_appointment(request: ApiRequest, appointment_id: Id, payload: StaffRescheduleIn):
    """Move an appointment (drag on the calendar or the edit form). Same validation and
    eligibility as everywhere: 409 slot_taken / eligibility reason, 422 slot_unavailable."""
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    practitioner = None
    if payload.practitioner_id is not None:
        practitioner = Practitioner.objects.filter(id=payload.practitioner_id).first()
        if practitioner is None:
            raise ValidationFailed("No such practitioner", field="practitioner_id")
    moved = appointment_reschedule_by_staff(
        actor=request.auth,
        appointment=appointment,
        start_at=local_start_at(payload.start, appointment.location),
        practitioner=practitioner,
        room=_room(payload.room_id, appointment.location),
        reason=payload.reason,
        override_reason=payload.override_reason,
    )
    return appointment_out(
        appointment_for_staff(actor=request.auth, appointment_id=moved.id), actor=request.auth
    )


@router.post(
    "/appointments/{appointment_id}/status",
    response={200: StaffAppointmentOut, **error_responses(409)},
    tags=["staff"],
)
def change_appointment_status(request: ApiRequest, appointment_id: Id, payload: StatusIn):
    """``action``: confirm, arrived, completed, no_show or cancel (cancel needs ``reason``)."""
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    appointment_change_status_by_staff(
        actor=request.auth, appointment=appointment, action=payload.action, reason=payload.reason
    )
    return appointment_out(
        appointment_for_staff(actor=request.auth, appointment_id=appointment_id), actor=request.auth
    )
