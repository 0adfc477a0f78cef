from __future__ import annotations

from django.conf import settings
from django.db import models

from clinic.models import Practitioner


class CalendarFeedToken(models.Model):
    """A practitioner's private iCalendar feed URL. The URL carries a signed ``<id>:<secret>``;
    only a SHA-256 of the secret is stored, so a database read does not reveal working URLs.
    Revoking sets ``revoked_at``; issuing a new one revokes the old."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="calendar_feed_tokens"
    )
    secret_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_token_per_practitioner",
            )
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "live"
        return f"Calendar feed for {self.practitioner} ({state})"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
