from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from clinic.models import Location


def new_verification_handle() -> str:
    return secrets.token_urlsafe(24)


class PhoneVerification(models.Model):
    """One one-time code sent to a phone. Only a keyed hash of the code is stored, so a database
    dump does not reveal live codes. Rows also serve as the rate-limit ledger (per phone, per IP
    and for the whole service), which works the same on SQLite and PostgreSQL with no extra
    moving part.

    Callers name a verification by its ``handle``, a random 192-bit string, never by its id:
    ids are sequential, so anyone could have spent the five tries on someone else's code.
    ``requester`` binds a verification to the browser session that asked (a keyed hash of its
    session key; empty for API callers, whose handle is their bearer proof).
    """

    MAX_ATTEMPTS = 5

    handle = models.CharField(max_length=40, unique=True, default=new_verification_handle)
    requester = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=20, help_text="E.164")
    code_hash = models.CharField(max_length=64)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    # A newer code for the same phone and requester replaces this one (the page says so).
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The one booking this proof was spent on; a verification token books once.
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = models.ForeignKey(
        "bookings.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        state = "verified" if self.verified_at else "pending"
        return f"Verification {self.pk} for …{self.phone[-4:]} ({state})"

    @property
    def attempts_left(self) -> int:
        return max(0, self.MAX_ATTEMPTS - self.attempts)
