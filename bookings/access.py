"""Who on the staff may see which client: the one access rule for client records.

Reception and managers see every client (reception still never reads health data: that is the
clinical-role check in ``check_clinical_access`` and in ``consultation_read``). A practitioner
sees their **own clients**, meaning anyone with an appointment with them (past, upcoming,
cancelled: a treating practitioner needs the consultation a colleague did). A location can
widen that with ``practitioners_see = whole_clinic``: its practitioners then see every client
with an appointment at that location.

A client's **clinical alert** (allergies, conditions: "allergic to lidocaine") is health data
(UK GDPR art. 9): only clinical roles read or change it, every read is written to
``HealthDataAccess`` (``client_alert_read``), and everyone else learns only that there is one
("ask a practitioner"). Desk **notes** (preferences, access needs) are not clinical and every
member of staff who sees the client reads them.

An appointment is visible when its client is (or, for a hold with no client yet, when it is in
the practitioner's own column). Pages, the staff API, the inbox, the outbox, the consultation
queue, eligibility, timelines and re-checks all ask here, so they give the same answer; the
calendar's columns are about the schedule, not client records (``selectors.calendar``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from bookings.models import Appointment, Client
from clinic import roles
from clinic.errors import PermissionDenied
from clinic.models import Location, Practitioner
from clinic.roles import Actor

OWN_CLIENTS_ONLY = "Practitioners see only their own clients"
CLINICAL_ALERT_FOR_CLINICIANS = (
    "Only practitioners and managers can read or change clinical alerts."
)


def own_practitioner(actor: Actor) -> Practitioner | None:
    """The Practitioner record linked to ``actor``, or None (looked up once per request's
    user object: the rule is asked several times per page)."""
    if actor is None or not actor.is_authenticated:
        return None
    cached = getattr(actor, "_aftercare_practitioner", False)
    if cached is False:
        cached = Practitioner.objects.filter(user=actor).first()
        setattr(actor, "_aftercare_practitioner", cached)  # noqa: B010 - not a declared field
    return cached if isinstance(cached, Practitioner) else None


def sees_every_client(actor: Actor) -> bool:
    """Reception and managers; practitioners only through a whole-clinic location."""
    return roles.has_role(actor, roles.RECEPTION, roles.MANAGER)


def _client_condition(practitioner: Practitioner, *, prefix: str = "") -> Q:
    whole_clinic = Location.objects.filter(
        practitioners=practitioner, practitioners_see=Location.PractitionersSee.WHOLE_CLINIC
    )
    own = Q(**{f"{prefix}appointments__practitioner": practitioner})
    return own | Q(**{f"{prefix}appointments__location__in": whole_clinic})


def visible_clients(*, actor: Actor) -> QuerySet[Client]:
    """The clients ``actor`` may see. Raises PermissionDenied for anyone without a role."""
    roles.require_role(actor, *roles.ALL_ROLES)
    if sees_every_client(actor):
        return Client.objects.all()
    practitioner = own_practitioner(actor)
    if practitioner is None:
        return Client.objects.none()
    return Client.objects.filter(_client_condition(practitioner)).distinct()


def visible_appointments(*, actor: Actor) -> QuerySet[Appointment]:
    """The appointments ``actor`` may open (their client is visible, or a client-less hold is in
    the practitioner's own column). Raises PermissionDenied for anyone without a role."""
    roles.require_role(actor, *roles.ALL_ROLES)
    if sees_every_client(actor):
        return Appointment.objects.all()
    practitioner = own_practitioner(actor)
    if practitioner is None:
        return Appointment.objects.none()
    return Appointment.objects.filter(
        Q(client__in=visible_clients(actor=actor))
        | Q(client__isnull=True, practitioner=practitioner)
    )


def filter_by_client(queryset: QuerySet, *, actor: Actor, client_field: str = "client") -> QuerySet:
    """``queryset`` narrowed to rows whose ``client_field`` is a client ``actor`` may see; rows
    with no client (unknown numbers, codes to new phones) only for those who see every client.
    Raises PermissionDenied for anyone without a role."""
    roles.require_role(actor, *roles.ALL_ROLES)
    if sees_every_client(actor):
        return queryset
    return queryset.filter(**{f"{client_field}__in": visible_clients(actor=actor)})


def check_client_access(*, actor: Actor, client: Client | None) -> None:
    """Raise PermissionDenied unless ``actor`` may see ``client`` (see the module docstring)."""
    roles.require_role(actor, *roles.ALL_ROLES)
    if sees_every_client(actor):
        return
    if client is None or not visible_clients(actor=actor).filter(pk=client.pk).exists():
        raise PermissionDenied(OWN_CLIENTS_ONLY)


def check_appointment_access(*, actor: Actor, appointment: Appointment) -> None:
    """Raise PermissionDenied unless ``actor`` may open ``appointment``."""
    roles.require_role(actor, *roles.ALL_ROLES)
    if sees_every_client(actor):
        return
    if appointment.client_id is None:
        practitioner = own_practitioner(actor)
        if practitioner is None or appointment.practitioner_id != practitioner.pk:
            raise PermissionDenied(OWN_CLIENTS_ONLY)
        return
    check_client_access(actor=actor, client=appointment.client)


def check_clinical_access(*, actor: Actor, client: Client | None) -> None:
    """Health data (screening answers, assessments, re-checks): a clinical role *and* a client
    ``actor`` may see. Raises PermissionDenied."""
    if not roles.has_role(actor, *roles.CLINICAL_ROLES):
        raise PermissionDenied("Only practitioners and managers can read health data.")
    check_client_access(actor=actor, client=client)


def check_booking_access(*, actor: Actor, client: Client) -> None:
    """A member of staff books for a client they may see, or for a client with no appointment
    yet (a record just made at the desk holds contact details only, and the booking makes them
    the practitioner's own client). Raises PermissionDenied."""
    roles.require_role(actor, *roles.ALL_ROLES)
    if sees_every_client(actor) or not client.appointments.exists():
        return
    check_client_access(actor=actor, client=client)


@dataclass(frozen=True)
class ClientAlert:
    """A client's clinical alert as one actor may see it: ``text`` is None for anyone without
    a clinical role (they see that there is an alert, never what it says)."""

    exists: bool
    text: str | None

    @property
    def is_hidden(self) -> bool:
        return self.exists and self.text is None


def may_read_clinical_alert(actor: Actor) -> bool:
    """Practitioners and managers (reception sees only that an alert exists)."""
    return roles.has_role(actor, *roles.CLINICAL_ROLES)


def client_alert_read(*, actor: Actor, client: Client, via: str = "staff") -> ClientAlert:
    """The clinical alert of a client ``actor`` may see; reading its text is audited like
    other health data (a ``HealthDataAccess`` read of ``client-alert:<id>``). Raises
    PermissionDenied when ``actor`` may not see the client at all."""
    check_client_access(actor=actor, client=client)
    if not client.alert:
        return ClientAlert(exists=False, text=None)
    if not may_read_clinical_alert(actor):
        return ClientAlert(exists=True, text=None)
    # Imported here: bookings.services imports this module.
    from bookings.services.health_data import health_data_access_record

    health_data_access_record(
        actor=actor,
        action="read",
        record=f"client-alert:{client.pk}",
        fields=["alert"],
        client_id=client.pk,
        via=via,
    )
    return ClientAlert(exists=True, text=client.alert)


def check_clinical_alert_change(*, actor: Actor, client: Client) -> None:
    """Raise PermissionDenied unless ``actor`` may change ``client``'s clinical alert."""
    check_client_access(actor=actor, client=client)
    if not may_read_clinical_alert(actor):
        raise PermissionDenied(CLINICAL_ALERT_FOR_CLINICIANS)
