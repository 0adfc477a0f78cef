"""The health-data access log: every read and change of screening answers, notes, flags and
re-check answers writes one ``HealthDataAccess`` row (who, what, when, which fields — never the
values)."""

from __future__ import annotations

from collections.abc import Iterable

from bookings.models import Consultation, HealthDataAccess
from clinic import roles
from clinic.roles import Actor


def health_data_access_record(
    *,
    actor: Actor,
    action: str,
    record: str,
    fields: Iterable[str],
    consultation: Consultation | None = None,
    client_id: int | None = None,
    via: str = "",
    actor_label: str | None = None,
) -> HealthDataAccess:
    """Write one audit row. ``record`` names what was touched (``consultation:12``,
    ``recheck:4``); ``fields`` are field names only."""
    return HealthDataAccess.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or roles.actor_label(actor),
        action=action,
        consultation=consultation,
        client_id=client_id if client_id is not None else getattr(consultation, "client_id", None),
        record=record,
        fields=sorted(fields),
        via=via,
    )
