from __future__ import annotations

from django.db import models
from django.utils import timezone

from clinic.models import Location


class PhoneVerification(models.Model):
    """One one-time code sent to a phone. Only a keyed hash of the code is stored, so a database
    dump does not reveal live codes. Rows also serve as the rate-limit ledger (per phone and per
    IP), which works the same on SQLite and PostgreSQL with no extra moving part."""

    MAX_ATTEMPTS = 5

    phone = models.CharField(max_length=20, help_text="E.164")
    code_hash = models.CharField(max_length=64)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]

    def __str__(self) -> str:
        state = "verified" if self.verified_at else "pending"
        return f"Verification {self.pk} for …{self.phone[-4:]} ({state})"

    @property
    def attempts_left(self) -> int:
        return max(0, self.MAX_ATTEMPTS - self.attempts)
