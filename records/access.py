"""Who may see and write a client's treatment records and photos, and the audit of every try.

Records and photos are health data: practitioners and managers only (reception never), every
read and change written to the health-data access log, never the values.

The client-level rule (which practitioner may see which client) belongs to bookings; until it
exists there this checks the clinical role only. It is the one place to plug it in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from bookings.models import HealthDataAccess
from bookings.services.health_data import health_data_access_record
from clinic import roles
from clinic.errors import PermissionDenied
from clinic.roles import Actor


def audit(
    *,
    actor: Actor,
    action: str,
    record: str,
    fields: Iterable[str],
    client_id: int | None,
    via: str,
) -> None:
    health_data_access_record(
        actor=actor,
        action=action,
        record=record,
        fields=fields,
        client_id=client_id,
        via=via,
    )


def require_clinical_access(
    *, actor: Actor, client_id: int, record: str, fields: Iterable[str], via: str
) -> None:
    """Raise PermissionDenied unless ``actor`` may see this client's clinical records; a staff
    member who is refused is logged as a denied access."""
    if roles.has_role(actor, *roles.CLINICAL_ROLES):
        return
    if roles.is_staff_member(actor):
        audit(
            actor=actor,
            action=HealthDataAccess.Action.DENIED,
            record=record,
            fields=fields,
            client_id=client_id,
            via=via,
        )
    raise PermissionDenied("Only practitioners and managers can see treatment records.")


def staff_user(actor: Actor) -> User:
    """The signed-in member of staff behind ``actor`` (who signs, uploads, amends); raises
    PermissionDenied for anyone else."""
    user = roles.user_of(actor)
    if user is None:
        raise PermissionDenied("Sign in as a member of staff.")
    return user
