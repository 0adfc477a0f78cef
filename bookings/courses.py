"""A client's course of a treatment: which sessions count, which came before, how many remain.

One definition for every rule that asks: eligibility (sessions a minimum interval apart), the
reminder planning (the re-check text before a later session, the rebook nudge while the course
is unfinished), the health re-check itself and the staff client page. A session counts while it
is booked or done (``policy.COURSE_SESSION_STATUSES``): a session booked together with an
earlier one is a later session from the moment it is booked, whether or not the desk has
closed the earlier one yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from bookings.models import Appointment
from bookings.policy import COURSE_SESSION_STATUSES, EXPECTED_STATUSES
from bookings.services.clients import client_registered_here_with_no_visits
from clinic.db import placeholders
from clinic.models import Service

Status = Appointment.Status


def course_sessions(*, client_id: int | None, service_id: int) -> QuerySet[Appointment]:
    """The sessions of this client's course of this service that count (booked or done)."""
    if client_id is None:  # a hold before the client gave details belongs to no course
        return Appointment.objects.none()
    return Appointment.objects.filter(
        client_id=client_id, service_id=service_id, status__in=COURSE_SESSION_STATUSES
    )


def earlier_sessions(*, appointment: Appointment) -> QuerySet[Appointment]:
    """Sessions of the same course that start before ``appointment``."""
    return (
        course_sessions(client_id=appointment.client_id, service_id=appointment.service_id)
        .filter(start_at__lt=appointment.start_at)
        .exclude(pk=appointment.pk)
    )


@cache
def _earlier_session_probe_sql(*, excludes_one: bool) -> str:
    statuses = placeholders(len(COURSE_SESSION_STATUSES))
    return (
        f"SELECT 1 FROM {Appointment._meta.db_table}"  # noqa: S608 - fixed text
        f" WHERE client_id = %s AND service_id = %s AND status IN ({statuses})"
        f" AND start_at < %s{' AND id <> %s' if excludes_one else ''} LIMIT 1"
    )


def is_later_session(*, appointment: Appointment) -> bool:
    """Not the first session of its course (so it needs a health re-check before it).

    ``earlier_sessions(...).exists()`` as one small fixed statement: every booking's message
    plan asks, and building the ORM query cost several times what running it does."""
    if appointment.client_id is None:  # a hold before the client gave details
        return False
    if client_registered_here_with_no_visits(
        Appointment.client.field.get_cached_value(appointment, default=None),
        besides=appointment.pk,
    ):
        return False
    params: list[Any] = [
        appointment.client_id,
        appointment.service_id,
        *COURSE_SESSION_STATUSES,
        connection.ops.adapt_datetimefield_value(appointment.start_at),
    ]
    if appointment.pk is not None:
        params.append(appointment.pk)
    sql = _earlier_session_probe_sql(excludes_one=appointment.pk is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def earlier_session_exists() -> Exists:
    """``is_later_session`` as a subquery for a queryset of appointments."""
    return Exists(
        Appointment.objects.filter(
            client=OuterRef("client"),
            service=OuterRef("service"),
            status__in=COURSE_SESSION_STATUSES,
            start_at__lt=OuterRef("start_at"),
        ).exclude(pk=OuterRef("pk"))
    )


def later_session_ids(*, appointments: Iterable[Appointment]) -> set[int]:
    """Which of ``appointments`` are later sessions of their course (one query)."""
    candidates = [a for a in appointments if a.client_id is not None]
    if not candidates:
        return set()
    first_start: dict[tuple[int | None, int], tuple[datetime, int]] = {}
    for pk, client_id, service_id, start_at in (
        Appointment.objects.filter(
            client_id__in={a.client_id for a in candidates},
            service_id__in={a.service_id for a in candidates},
            status__in=COURSE_SESSION_STATUSES,
        )
        .order_by("start_at", "pk")
        .values_list("pk", "client_id", "service_id", "start_at")
    ):
        first_start.setdefault((client_id, service_id), (start_at, pk))
    later = set()
    for appointment in candidates:
        first = first_start.get((appointment.client_id, appointment.service_id))
        if first is not None and first[0] < appointment.start_at and first[1] != appointment.pk:
            later.add(appointment.pk)
    return later


def next_session_is_booked(*, appointment: Appointment, now: datetime) -> bool:
    """Whether the client already has a (non-tentative) later session of this course booked."""
    return (
        course_sessions(client_id=appointment.client_id, service_id=appointment.service_id)
        .filter(start_at__gt=now, status__in=EXPECTED_STATUSES)
        .exists()
    )


def sessions_too_close(
    *,
    client_id: int,
    service: Service,
    start_at: datetime,
    exclude_appointment_id: int | None = None,
) -> QuerySet[Appointment]:
    """Sessions of the course less than ``service.min_interval_days`` from ``start_at``, either
    side (empty when the service sets no interval)."""
    gap = timedelta(days=service.min_interval_days)
    sessions = course_sessions(client_id=client_id, service_id=service.pk).filter(
        start_at__gt=start_at - gap, start_at__lt=start_at + gap
    )
    if exclude_appointment_id is not None:
        sessions = sessions.exclude(pk=exclude_appointment_id)
    return sessions


def course_is_unfinished(*, appointment: Appointment) -> bool:
    """True while the client's current course of this service has sessions left: the count of
    completed sessions is not a whole number of courses (a course of 1 is never unfinished)."""
    completed = course_sessions(
        client_id=appointment.client_id, service_id=appointment.service_id
    ).filter(status=Status.COMPLETED)
    return completed.count() % max(appointment.service.course_size, 1) != 0


@dataclass(frozen=True)
class CourseProgress:
    service: Service
    sessions_done: int
    sessions_booked: int
    course_size: int
    next_due_on: date | None

    @property
    def current_session(self) -> int:
        return min(self.sessions_done + self.sessions_booked, self.course_size)

    @property
    def sessions_remaining(self) -> int:
        return max(self.course_size - self.sessions_done - self.sessions_booked, 0)

    @property
    def is_finished(self) -> bool:
        return self.sessions_done >= self.course_size


def courses_progress(
    appointments: Iterable[Appointment], *, zone_of: Callable[[Appointment], ZoneInfo]
) -> list[CourseProgress]:
    """Progress of each course (treatments sold as a course of more than one session) among
    one client's ``appointments``: sessions done and booked, and when the next one is due."""
    by_service: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        service = appointment.service
        if (
            service.kind == Service.Kind.TREATMENT
            and service.course_size > 1
            and appointment.status in COURSE_SESSION_STATUSES
        ):
            by_service.setdefault(service.pk, []).append(appointment)
    courses = []
    for sessions in by_service.values():
        service = sessions[0].service
        done = sum(1 for s in sessions if s.status == Status.COMPLETED)
        booked = len(sessions) - done
        last = max(sessions, key=lambda s: s.start_at)
        next_due_on = None
        if done + booked < service.course_size:
            next_due_on = (
                last.start_at.astimezone(zone_of(last)) + timedelta(days=service.min_interval_days)
            ).date()
        courses.append(
            CourseProgress(
                service=service,
                sessions_done=done,
                sessions_booked=booked,
                course_size=service.course_size,
                next_due_on=next_due_on,
            )
        )
    return courses
