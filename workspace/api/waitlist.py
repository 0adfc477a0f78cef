"""Staff API: the waitlist per service and day, and adding a client taken on the phone."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Router, Schema, Status

from bookings.auth import staff_auth
from bookings.selectors import booking as booking_selectors
from bookings.selectors.staff import client_for_staff
from clinic.api import error_responses
from clinic.http import ApiRequest
from clinic.parsing import ApiDate, Id
from waitlist import selectors, services
from waitlist.api import WindowIn, WindowOut
from waitlist.models import WaitlistEntry

router = Router(auth=staff_auth, tags=["staff"])


class StaffWaitlistEntryOut(Schema):
    id: int
    status: str
    client_id: int
    client_name: str
    service: int
    service_name: str
    location: int
    practitioner: int | None
    windows: list[WindowOut]
    expires_on: date
    joined_at: datetime
    channel: str


class StaffWaitlistIn(Schema):
    client_id: Id
    service: Id
    location: Id
    practitioner: Id | None = None
    windows: list[WindowIn] = Field(..., min_length=1, max_length=93)
    expires_on: ApiDate | None = None


def staff_entry_out(entry: WaitlistEntry) -> StaffWaitlistEntryOut:
    return StaffWaitlistEntryOut(
        id=entry.pk,
        status=entry.status,
        client_id=entry.client_id,
        client_name=entry.client.full_name,
        service=entry.service_id,
        service_name=entry.service.name,
        location=entry.location_id,
        practitioner=entry.practitioner_id,
        windows=[WindowOut(on=window.on, part=window.part) for window in entry.windows.all()],
        expires_on=entry.expires_on,
        joined_at=entry.joined_at,
        channel=entry.channel,
    )


@router.get("/waitlist", response=list[StaffWaitlistEntryOut])
def list_waitlist(
    request: ApiRequest,
    service: Id | None = None,
    location: Id | None = None,
    on: ApiDate | None = None,
) -> list[StaffWaitlistEntryOut]:
    """Live waitlist entries (earliest joined first), optionally for one service, location and
    local day."""
    entries = selectors.waitlist_entries(
        actor=request.auth,
        service=booking_selectors.service_for_booking(service_id=service) if service else None,
        location=booking_selectors.location_for_booking(location_id=location) if location else None,
        on=on,
    )
    return [staff_entry_out(entry) for entry in entries[:500]]


@router.post("/waitlist", response={201: StaffWaitlistEntryOut, **error_responses(404)})
def add_to_waitlist(request: ApiRequest, payload: StaffWaitlistIn) -> Status:
    """Put a client (already registered, with SMS consent) on the waitlist."""
    client = client_for_staff(actor=request.auth, client_id=payload.client_id)
    location = booking_selectors.location_for_booking(location_id=payload.location)
    entry = services.waitlist_join(
        client=client,
        service=booking_selectors.service_for_booking(service_id=payload.service),
        location=location,
        practitioner=booking_selectors.practitioner_for_booking(
            practitioner_id=payload.practitioner, location=location
        ),
        windows=[(window.on, window.part) for window in payload.windows],
        expires_on=payload.expires_on,
        actor=request.auth,
        channel=WaitlistEntry.Channel.STAFF,
    )
    return Status(201, staff_entry_out(entry))
