"""Public waitlist API: join (with a phone verification, as for a booking), read and leave an
entry through its token, claim an offer through the token in its text."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from bookings.api import BookingOut, ClientIn, booking_out
from bookings.selectors import booking as booking_selectors
from bookings.services import client_register, normalise_phone
from bookings.services.verification import verification_token_redeem
from clinic.api import error_responses, token_links
from clinic.parsing import ApiBool, ApiDate, Id
from waitlist import services
from waitlist.errors import PaymentRequired
from waitlist.models import PartOfDay, WaitlistEntry

router = Router(tags=["waitlist"])


class WindowIn(Schema):
    on: ApiDate = Field(..., examples=["2026-12-07"])
    part: PartOfDay = Field(..., examples=["morning"])


class WindowOut(Schema):
    on: date
    part: str


class WaitlistIn(Schema):
    service: Id
    location: Id
    practitioner: Id | None = None
    client: ClientIn
    windows: list[WindowIn] = Field(..., min_length=1, max_length=93)
    expires_on: ApiDate | None = None
    sms_consent: ApiBool = Field(
        False, description="Offers are texted: the client must agree to texts to join."
    )
    consent_wording: str = Field("", max_length=1000)
    verification_token: str | None = Field(
        None,
        max_length=1000,
        description="Proof of the client's phone from `POST /verifications/{id}/check`.",
    )


class WaitlistEntryOut(Schema):
    token: str
    status: str
    service: int
    service_name: str
    location: int
    practitioner: int | None
    windows: list[WindowOut]
    expires_on: date
    joined_at: datetime
    needs_clearance: bool = Field(
        ..., description="True while the client could not book the service yet: offers wait."
    )
    manage_url: str


def entry_out(entry: WaitlistEntry) -> WaitlistEntryOut:
    return WaitlistEntryOut(
        token=entry.token,
        status=entry.status,
        service=entry.service_id,
        service_name=entry.service.name,
        location=entry.location_id,
        practitioner=entry.practitioner_id,
        windows=[WindowOut(on=window.on, part=window.part) for window in entry.windows.all()],
        expires_on=entry.expires_on,
        joined_at=entry.joined_at,
        needs_clearance=services.entry_needs_clearance(entry=entry),
        manage_url=settings.PUBLIC_BASE_URL + reverse("waitlist-entry", args=[entry.token]),
    )


def _entry_links(status: int) -> dict:
    return token_links(
        status=status,
        field="token",
        operations={
            "GetWaitlistEntry": "waitlist_api_get_waitlist_entry",
            "LeaveWaitlist": "waitlist_api_leave_waitlist",
        },
    )


@router.post(
    "/waitlist",
    response={201: WaitlistEntryOut, **error_responses(401, 409, 422)},
    openapi_extra=_entry_links(201),
)
def join_waitlist(request: HttpRequest, payload: WaitlistIn) -> Status:
    """Join the waitlist for a service at a location on some dates and parts of the day. The
    phone must be proven as for `POST /bookings` (`verification_token`; 401
    `verification_required` without it). A treatment the client is not cleared for is accepted
    (`needs_clearance`): offers come only once they could book it."""
    service, location, practitioner = booking_selectors.booking_subjects(
        service_id=payload.service,
        location_id=payload.location,
        practitioner_id=payload.practitioner,
    )
    with transaction.atomic():
        phone = normalise_phone(payload.client.phone, region=location.country)
        verification_token_redeem(token=payload.verification_token, phone=phone)
        client = client_register(
            first_name=payload.client.first_name,
            last_name=payload.client.last_name,
            phone=payload.client.phone,
            email=payload.client.email,
            sms_consent=payload.sms_consent,
            consent_wording=payload.consent_wording,
            consent_method="api",
            location=location,
            phone_verified=True,
        )
        entry = services.waitlist_join(
            client=client,
            service=service,
            location=location,
            practitioner=practitioner,
            windows=[(window.on, window.part) for window in payload.windows],
            expires_on=payload.expires_on,
            channel=WaitlistEntry.Channel.API,
        )
    return Status(201, entry_out(entry))


@router.get("/waitlist/{token}", response={200: WaitlistEntryOut, **error_responses(404)})
def get_waitlist_entry(request: HttpRequest, token: str) -> WaitlistEntryOut:
    return entry_out(services.entry_from_token(token))


@router.delete("/waitlist/{token}", response={200: WaitlistEntryOut, **error_responses(404)})
def leave_waitlist(request: HttpRequest, token: str) -> WaitlistEntryOut:
    """Leave the waitlist (a live offer is withdrawn and goes to the next client)."""
    return entry_out(services.waitlist_leave(entry=services.entry_from_token(token)))


class PaymentStepOut(Schema):
    status: str = Field(..., examples=["payment_required"])
    message: str
    payment_url: str = Field(..., description="The pay page; paying books the held time")
    held_until: datetime


@router.post(
    "/waitlist/offers/{token}/claim",
    response={201: BookingOut, 202: PaymentStepOut, **error_responses(404, 409, 410)},
)
def claim_offer(request: HttpRequest, token: str) -> Status:
    """Book the offered time (the token is the one in the offer's text). 202 with
    `payment_url` when the service takes a deposit: nothing is booked yet, the time stays
    held for the client until `held_until`, and paying on that page books it. 410
    `offer_taken` with `alternatives` once the offer expired or the time went to someone
    else; the booking rules apply as for any booking (409 with their reason)."""
    try:
        appointment = services.offer_claim(token=token)
    except PaymentRequired as step:
        return Status(
            202,
            PaymentStepOut(
                status=step.code,
                message=step.message,
                payment_url=step.extra["payment_url"],
                held_until=datetime.fromisoformat(step.extra["held_until"]),
            ),
        )
    return Status(201, booking_out(appointment))
