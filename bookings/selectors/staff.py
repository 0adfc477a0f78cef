"""Reads for the staff workspace: one appointment with its history, client search, the client
page (appointments, course progress, consultation status, consent).

Reception sees contact details and consultation *outcomes*; screening answers and clinical
notes are not read here at all (the consultation selectors own those, with their audit).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from bookings import access, policy
from bookings.courses import CourseProgress, courses_progress
from bookings.models import Appointment, AppointmentEvent, Client, ClientChange, Consultation
from clinic import roles
from clinic.errors import NotFound
from clinic.parsing import bounded_search, search_terms
from clinic.roles import Actor

SEARCH_LIMIT = 20


def appointment_for_staff(*, actor: Actor, appointment_id: int) -> Appointment:
    """One appointment with client, service, practitioner, room and location loaded.

    Raises PermissionDenied (not staff, or a practitioner opening a colleague's appointment)
    and NotFound."""
    roles.require_role(actor, *roles.ALL_ROLES)
    appointment = (
        Appointment.objects.select_related("client", "service", "practitioner", "room", "location")
        .filter(id=appointment_id)
        .first()
    )
    if appointment is None:
        raise NotFound("No such appointment")
    access.check_appointment_access(actor=actor, appointment=appointment)
    return appointment


def appointment_history(*, appointment: Appointment) -> QuerySet[AppointmentEvent]:
    """Audit trail of ``appointment``, oldest first (access was checked when it was loaded)."""
    return appointment.events.select_related("actor").order_by("created_at", "id")


@dataclass(frozen=True)
class ConsultationStatus:
    """What reception may know: the latest outcome and how long a clearance lasts."""

    outcome: str
    outcome_label: str
    valid_until: date | None
    not_before: date | None
    consultation_appointment_id: int | None
    cleared_service_names: tuple[str, ...] = ()

    @property
    def is_valid_clearance(self) -> bool:
        return (
            self.outcome == Consultation.Outcome.CLEARED
            and self.valid_until is not None
            and self.valid_until >= timezone.localdate()
        )


def consultation_status_for_client(*, client: Client) -> ConsultationStatus | None:
    """The client's most recent consultation outcome (no answers, no notes), or None."""
    latest = (
        Consultation.objects.filter(client=client)
        .prefetch_related("services_cleared")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None:
        return None
    return ConsultationStatus(
        outcome=latest.outcome,
        outcome_label=latest.get_outcome_display(),
        valid_until=latest.valid_until,
        not_before=latest.not_before,
        consultation_appointment_id=latest.appointment_id,
        cleared_service_names=tuple(service.name for service in latest.services_cleared.all()),
    )


def clients_search(*, actor: Actor, query: str) -> list[Client]:
    """Clients whose name or phone matches ``query`` (at most SEARCH_LIMIT).

    Phone matching compares digits only, so "07700 900123" finds +447700900123.
    Raises PermissionDenied for non-staff."""
    roles.require_role(actor, *roles.ALL_ROLES)
    # Bounded in characters and words: a pasted essay must not become a huge SQL expression.
    words = search_terms(query)
    if len(" ".join(words)) < 2:
        return []
    condition = Q()
    for word in words:
        condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    digits = "".join(character for character in " ".join(words) if character in string.digits)
    if len(digits) >= 4:
        # A national number starts with 0 where E.164 has the country code: match the rest.
        condition |= Q(phone__contains=digits.lstrip("0"))
    clients = access.visible_clients(actor=actor).filter(condition)
    return list(clients.order_by("last_name", "first_name")[:SEARCH_LIMIT])


CLIENTS_PER_PAGE = 25


class ClientFilter:
    """The client list's filters (``?show=``), with the words staff see."""

    UPCOMING = "upcoming"
    COURSE = "course"
    PENDING_CLEARANCE = "pending_clearance"
    OPTED_OUT = "opted_out"
    CHOICES = (
        ("", "All clients"),
        (UPCOMING, "Upcoming visit"),
        (COURSE, "Course in progress"),
        (PENDING_CLEARANCE, "Pending clearance"),
        (OPTED_OUT, "Opted out of texts"),
    )


def clients_browse(
    *, actor: Actor, query: str = "", show: str = "", page: int | str | None = 1
) -> Page:
    """A page of clients (name order), each with ``next_visit_at``: those ``actor`` may see,
    matching ``query`` (name words or phone digits, as ``clients_search``) and the filter
    ``show`` (a ``ClientFilter`` value; unknown values show everyone).

    "Course in progress" is a client with a completed session of a course service and fewer
    completed sessions than its course size. Raises PermissionDenied for non-staff."""
    roles.require_role(actor, *roles.ALL_ROLES)
    now = timezone.now()
    clients = access.visible_clients(actor=actor)
    query = bounded_search(query)
    if query:
        condition = Q()
        for word in query.split():
            condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        digits = "".join(character for character in query if character.isdigit())
        if len(digits) >= 4:
            condition |= Q(phone__contains=digits.lstrip("0"))
        clients = clients.filter(condition)
    upcoming = Appointment.objects.filter(
        client=OuterRef("pk"), start_at__gt=now, status__in=policy.OPEN_VISIT_STATUSES
    )
    if show == ClientFilter.UPCOMING:
        clients = clients.filter(Exists(upcoming))
    elif show == ClientFilter.PENDING_CLEARANCE:
        clients = clients.filter(
            Exists(
                Appointment.objects.filter(
                    client=OuterRef("pk"), status=Appointment.Status.PENDING_CLEARANCE
                )
            )
        )
    elif show == ClientFilter.OPTED_OUT:
        clients = clients.filter(sms_opted_out_at__isnull=False)
    elif show == ClientFilter.COURSE:
        completed_course = Q(
            appointments__status=Appointment.Status.COMPLETED,
            appointments__service__course_size__gt=1,
        )
        clients = clients.annotate(
            sessions_done=Count("appointments", filter=completed_course),
            course_size=Max("appointments__service__course_size", filter=completed_course),
        ).filter(sessions_done__gt=0, sessions_done__lt=F("course_size"))
    clients = clients.annotate(
        next_visit_at=Min(
            "appointments__start_at",
            filter=Q(
                appointments__start_at__gt=now, appointments__status__in=policy.OPEN_VISIT_STATUSES
            ),
        )
    ).order_by("last_name", "first_name", "id")
    return Paginator(clients, CLIENTS_PER_PAGE).get_page(page)


@dataclass
class ClientOverview:
    client: Client
    upcoming: list[Appointment] = field(default_factory=list)
    past: list[Appointment] = field(default_factory=list)
    courses: list[CourseProgress] = field(default_factory=list)
    consultation: ConsultationStatus | None = None


def client_overview(*, actor: Actor, client_id: int, now: datetime | None = None) -> ClientOverview:
    """The client page: upcoming and past appointments, course progress ("session 2 of 3,
    next due after …"), the latest consultation outcome and validity.

    Raises PermissionDenied (non-staff; a practitioner who never saw this client) and
    NotFound."""
    roles.require_role(actor, *roles.ALL_ROLES)
    client = Client.objects.filter(id=client_id).select_related("preferred_location").first()
    if client is None:
        raise NotFound("No such client")
    appointments = list(
        Appointment.objects.filter(client=client)
        .select_related("service", "practitioner", "room", "location")
        .order_by("start_at")
    )
    access.check_client_access(actor=actor, client=client)
    now = now or timezone.now()
    overview = ClientOverview(client=client)
    for appointment in appointments:
        if appointment.status in policy.OPEN_VISIT_STATUSES and appointment.end_at >= now:
            overview.upcoming.append(appointment)
        elif appointment.status != Appointment.Status.HELD:
            overview.past.append(appointment)
    overview.past.reverse()
    overview.courses = courses_progress(appointments, zone_of=lambda a: a.location.zone)
    overview.consultation = consultation_status_for_client(client=client)
    return overview


def client_for_staff(*, actor: Actor, client_id: int) -> Client:
    """One client, if ``actor`` may see them (staff; a practitioner only their own clients).

    Raises PermissionDenied and NotFound."""
    roles.require_role(actor, *roles.ALL_ROLES)
    client = Client.objects.filter(id=client_id).first()
    if client is None:
        raise NotFound("No such client")
    access.check_client_access(actor=actor, client=client)
    return client


def client_changes(*, client: Client, limit: int = 20) -> list[ClientChange]:
    """The latest edits to a client's details, newest first."""
    return list(ClientChange.objects.filter(client=client).select_related("actor")[:limit])


def client_possible_duplicates(*, actor: Actor, client: Client, limit: int = 10) -> list[Client]:
    """Other clients who may be the same person: the same last name, the same email, or the
    same first name with a last name starting alike. Reception and managers only (they merge).
    Raises PermissionDenied otherwise."""
    roles.require_role(actor, roles.RECEPTION, roles.MANAGER)
    alike = Q(first_name__iexact=client.first_name)
    if client.last_name:
        alike = Q(last_name__iexact=client.last_name) | (
            alike & Q(last_name__istartswith=client.last_name[:1])
        )
    if client.email:
        alike |= Q(email__iexact=client.email)
    return list(
        Client.objects.filter(alike)
        .exclude(pk=client.pk)
        .order_by("last_name", "first_name")[:limit]
    )
