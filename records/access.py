"""Who may see and write a client's treatment records and photos, and the audit of every try.

Records and photos are health data: practitioners and managers only (reception never), every
read and change written to the health-data access log, never the values.

Which practitioner may see which client is bookings' one rule (``bookings.access``): a
practitioner sees their own clients, reception and managers everyone; health data also needs
a clinical role (``check_clinical_access``). Records asks it here, and only here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from bookings.access import check_clinical_access
from bookings.models import Client, HealthDataAccess
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
    """Raise PermissionDenied unless ``actor`` may see this client's clinical records (a
    clinical role, and a client ``bookings.access`` lets them see); a staff member who is
    refused is logged as a denied access."""
    try:
        if not roles.has_role(actor, *roles.CLINICAL_ROLES):
            raise PermissionDenied("Only practitioners and managers can see treatment records.")
        check_clinical_access(actor=actor, client=Client.objects.filter(pk=client_id).first())
    except PermissionDenied:
        if roles.is_staff_member(actor):
            audit(
                actor=actor,
                action=HealthDataAccess.Action.DENIED,
                record=record,
                fields=fields,
                client_id=client_id,
                via=via,
            )
        raise


def staff_user(actor: Actor) -> User:
    """The signed-in member of staff behind ``actor`` (who signs, uploads, amends); raises
    PermissionDenied for anyone else."""
    user = roles.user_of(actor)
    if user is None:
        raise PermissionDenied("Sign in as a member of staff.")
    return user
