from __future__ import annotations

from django.conf import settings
from django.db import models

from bookings.models.clients import Client


class DataProtectionAction(models.Model):
    """The audit of a data-protection right exercised: a client's data exported or erased
    (always by a manager, with a written reason), or asked for by the client. Kept after an
    erasure: the row names the client by id only."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Data exported"
        ERASE = "erase", "Client erased"
        EXPORT_REQUESTED = "export_requested", "Client asked for their data"
        CLINICAL_PURGED = "clinical_purged", "Clinical records purged after retention"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_ref = models.PositiveBigIntegerField(help_text="The client's id, kept after erasure")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=60)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client_ref", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for client {self.client_ref}"
