"""JSON API for phone verification: the proof an anonymous ``POST /bookings`` needs."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from bookings.services.verification import (
    TOKEN_LIFETIME,
    verification_check,
    verification_requester_for,
    verification_start,
)
from clinic.api import ErrorOut
from clinic.errors import NotFound
from clinic.http import client_ip
from clinic.models import Location
from clinic.parsing import Id

router = Router(tags=["verification"])


class VerificationIn(Schema):
    phone: str = Field(..., max_length=32, examples=["+447911123456"])
    location: Id | None = Field(None, examples=[1])


class VerificationOut(Schema):
    id: str
    phone: str
    expires_at: datetime
    attempts_left: int


class CheckIn(Schema):
    code: str = Field(..., max_length=12, examples=["123456"])


class CheckOut(Schema):
    verification_token: str
    expires_in: int


@router.post(
    "/verifications",
    response={201: VerificationOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Send a one-time code to a phone",
    description=(
        "Sends a 6-digit code by SMS to `phone` (national numbers are read in the location's "
        "country, default GB), only to the countries the location allows (422 "
        "`invalid` on `phone` otherwise). The code expires after 10 minutes and allows 5 tries; "
        "asking again replaces the earlier code. `id` is an unguessable handle: keep it to "
        "check the code. Rate limits: one code per phone per minute, 5 per phone and 20 per IP "
        "address per hour, and a service-wide hourly budget; 429 responses carry "
        "`retry_after` in seconds. The body must be JSON (`Content-Type: application/json`, "
        "else 415)."
    ),
    auth=None,
)
def create_verification(request: HttpRequest, payload: VerificationIn):
    location = None
    if payload.location is not None:
        location = Location.objects.filter(pk=payload.location, is_active=True).first()
        if location is None:
            raise NotFound("Unknown location", field="location")
    verification = verification_start(
        phone=payload.phone,
        ip=client_ip(request),
        location=location,
        requester=verification_requester_for(session_key=request.session.session_key),
    )
    return Status(
        201,
        {
            "id": verification.handle,
            "phone": verification.phone,
            "expires_at": verification.expires_at,
            "attempts_left": verification.attempts_left,
        },
    )


@router.post(
    "/verifications/{handle}/check",
    response={200: CheckOut, 404: ErrorOut, 410: ErrorOut, 422: ErrorOut},
    summary="Check a one-time code and get a verification token",
    description=(
        "Returns `verification_token`, valid for 30 minutes, to send with an unauthenticated "
        "`POST /bookings` for the same phone. A wrong code is 422 with `attempts_left`; an "
        "expired, replaced, used or exhausted code is 410 (ask for a new one). The token books "
        "once."
    ),
    auth=None,
)
def check_verification(request: HttpRequest, handle: str, payload: CheckIn):
    token = verification_check(
        handle=handle,
        code=payload.code,
        requester=verification_requester_for(session_key=request.session.session_key),
    )
    return Status(
        200,
        {
            "verification_token": token,
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        },
    )
