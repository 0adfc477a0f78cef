"""Domain errors. Services raise these; the API maps them to one JSON shape and HTML views
show them as form errors. Each has a stable ``code`` clients can switch on."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "application_error"
    status = 400

    def __init__(
        self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "field": self.field, **self.extra}


class ValidationFailed(ApplicationError):
    code = "invalid"
    status = 422


class NotFound(ApplicationError):
    code = "not_found"
    status = 404


class Gone(ApplicationError):
    code = "gone"
    status = 410


class PermissionDenied(ApplicationError):
    code = "forbidden"
    status = 403


class SlotTaken(ApplicationError):
    """The slot was free when offered but someone else got it first."""

    code = "slot_taken"
    status = 409


class ClientBusy(ApplicationError):
    """The client already has an active appointment at an overlapping time (one client, one
    place); ``appointment_id`` names it."""

    code = "client_busy"
    status = 409


class ConsultationAlreadyBooked(ApplicationError):
    """Online, a client with an upcoming consultation is pointed at it instead of booking a
    second one (staff may book one deliberately); ``appointment_id`` names it."""

    code = "consultation_already_booked"
    status = 409


class SlotUnavailable(ApplicationError):
    """The requested start is not a bookable slot (outside hours, past, beyond horizon…)."""

    code = "slot_unavailable"
    status = 422


class IllegalTransition(ApplicationError):
    code = "illegal_transition"
    status = 409


class HoldExpired(ApplicationError):
    code = "hold_expired"
    status = 410


class NotEligible(ApplicationError):
    """Eligibility refused the booking; ``code`` is replaced by the eligibility reason
    (``consultation_required``, ``clearance_expired``, ``too_soon_in_course`` …)."""

    code = "not_eligible"
    status = 409

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message, field=field, extra=extra)
        self.code = reason


class PolicyViolation(ApplicationError):
    """A client tried something the clinic's policy does not allow online (e.g. late change)."""

    code = "policy"
    status = 409
