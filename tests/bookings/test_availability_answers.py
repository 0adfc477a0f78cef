"""bookings.availability.answers: whole API answers are kept only under the calendar
generations they were computed in (the proof is in the module's docstring). These tests commit
for real (transactional), so every change's after-commit replacement runs as in production."""

from __future__ import annotations

import re
import time as wall_clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import api as bookings_api
from bookings.availability import answers
from bookings.models import Appointment
from bookings.services import appointment_book
from bookings.services.transitions import set_status
from clinic.models import WorkingHours
from tests import factories

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cached(settings):
    settings.AVAILABILITY_CACHE_SECONDS = 30
    cache.clear()
    answers._kept_here.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def facial(location, room, practitioner):
    service = factories.ServiceFactory(name="Hydrating facial", duration_minutes=45)
    service.rooms.add(room)
    practitioner.services.add(service)
    return service


def _month(client, service, location):
    return client.get(
        "/api/v1/availability",
        {"service": service.pk, "location": location.pk, "from": "2026-12-07", "to": "2026-12-07"},
    )


def _starts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [slot["start"] for day in response.json()["days"] for slot in day["slots"]]


def _book(service, location, practitioner, start: datetime) -> Appointment:
    return appointment_book(
        client=factories.ClientFactory(),
        service=service,
        location=location,
        start_at=start,
        practitioner=practitioner,
        actor=None,
    )


NINE = datetime.combine(MONDAY, time(9), tzinfo=LONDON)


def _book_without_signals(service, location, practitioner, start: datetime) -> None:
    """A visit written as another process (or a queryset write) would: no receiver here runs,
    so nothing retires a generation."""
    end = start + timedelta(minutes=service.duration_minutes)
    Appointment.objects.bulk_create(
        [
            Appointment(
                client=factories.ClientFactory(),
                service=service,
                location=location,
                practitioner=practitioner,
                start_at=start,
                end_at=end,
                blocked_start_at=start,
                blocked_end_at=end,
                status=Appointment.Status.BOOKED,
            )
        ]
    )


def test_a_repeated_question_is_answered_from_the_cache_without_a_query(client, facial, location):
    first = _month(client, facial, location)
    with CaptureQueriesContext(connection) as queries:
        again = _month(client, facial, location)

    assert again.content == first.content
    assert not [q for q in queries if "bookings_appointment" in q["sql"]]
    assert len(queries) <= 2  # the session and axes middlewares may look; availability not


def test_a_booking_retires_the_answers_of_its_location(client, facial, location, practitioner):
    assert NINE.isoformat() in _starts(_month(client, facial, location))

    _book(facial, location, practitioner, NINE)

    assert NINE.isoformat() not in _starts(_month(client, facial, location))


def test_a_cancellation_frees_the_time_in_the_next_answer(client, facial, location, practitioner):
    visit = _book(facial, location, practitioner, NINE)
    assert NINE.isoformat() not in _starts(_month(client, facial, location))

    set_status(visit, Appointment.Status.CANCELLED, actor=None, label="test", reason="test")

    assert NINE.isoformat() in _starts(_month(client, facial, location))


def test_a_booking_committed_while_an_answer_is_computed_never_stays_under_the_new_generation(
    client, facial, location, practitioner, monkeypatch
):
    """The race: a reader reads the generations, computes from the calendar *before* a booking
    commits, and stores its answer after the booking's after-commit replacement. That answer
    is under the retired generation, so the next reader computes again and sees the booking."""
    real_body = bookings_api._availability_body

    def compute_then_a_booking_commits(query):
        body = real_body(query)  # the calendar as it was: 09:00 free
        _book(facial, location, practitioner, NINE)  # commits; its replacement runs
        return body

    monkeypatch.setattr(bookings_api, "_availability_body", compute_then_a_booking_commits)
    assert NINE.isoformat() in _starts(_month(client, facial, location))  # stale, not reused
    monkeypatch.setattr(bookings_api, "_availability_body", real_body)

    assert NINE.isoformat() not in _starts(_month(client, facial, location))


def test_working_hours_changes_retire_every_answer(client, facial, location, practitioner):
    assert _starts(_month(client, facial, location))

    WorkingHours.objects.filter(practitioner=practitioner).delete()

    assert _starts(_month(client, facial, location)) == []


def test_refusals_are_not_kept(client, facial, location):
    facial.is_active = False
    facial.save()
    assert _month(client, facial, location).status_code in {404, 422}

    facial.is_active = True
    facial.save()

    assert _month(client, facial, location).status_code == 200


def test_answers_expire_after_their_lifetime(client, facial, location, practitioner):
    _month(client, facial, location)
    # A change that bypasses save() is not seen until the answer expires.
    _book_without_signals(facial, location, practitioner, NINE)
    assert NINE.isoformat() in _starts(_month(client, facial, location))

    with time_machine.travel(NOW + timedelta(seconds=31), tick=False):
        assert NINE.isoformat() not in _starts(_month(client, facial, location))


def test_an_answer_stored_while_a_booking_is_uncommitted_is_retired_by_its_commit(
    facial, location, practitioner
):
    """Another process may read the generation while a booking is not yet committed and keep
    the old calendar under it: the commit replaces it."""
    from django.db import transaction

    from bookings.availability import answers

    with transaction.atomic():
        _book(facial, location, practitioner, NINE)
        seen_before_commit = answers._tokens(location.pk)  # what that other reader stores under
    after_commit = answers._tokens(location.pk)

    assert seen_before_commit is not None
    assert after_commit is not None
    assert after_commit[1] != seen_before_commit[1]


def test_a_booking_retires_its_locations_answers_in_one_cache_write_after_its_commit(
    client, facial, location, practitioner, monkeypatch
):
    from django.db import transaction

    from bookings.availability import answers

    assert NINE.isoformat() in _starts(_month(client, facial, location))  # kept
    calls = _CacheCalls(cache)
    monkeypatch.setattr(answers, "cache", calls)

    with transaction.atomic():
        _book(facial, location, practitioner, NINE)
        assert calls.names == []  # nothing before the commit: readers cannot see it yet
    assert calls.names == ["set"]

    monkeypatch.setattr(answers, "cache", cache)
    assert NINE.isoformat() not in _starts(_month(client, facial, location))


def _fragment(client, location, service, *, slug=None):
    return client.get(
        reverse("site-times", args=[slug or location.slug, service.slug]) + "?day=2026-12-07",
        HTTP_HX_REQUEST="true",
    )


class _CacheCalls:
    """The cache, recording which of its methods are called."""

    def __init__(self, real):
        self.real, self.names = real, []

    def __getattr__(self, name):
        self.names.append(name)
        return getattr(self.real, name)


def test_a_kept_answer_is_one_cache_round_trip(client, facial, location, monkeypatch):
    from bookings.availability import answers

    _month(client, facial, location)
    calls = _CacheCalls(cache)
    monkeypatch.setattr(answers, "cache", calls)

    _month(client, facial, location)

    assert calls.names == ["get_many"]


def test_a_kept_picker_fragment_needs_no_database_query(facial, location, practitioner):
    _fragment(Client(), location, facial)
    with CaptureQueriesContext(connection) as queries:
        kept = _fragment(Client(), location, facial)

    assert kept.status_code == 200
    assert 'value="2026-12-07T09:00:00+00:00"' in kept.content.decode()
    assert [q["sql"] for q in queries] == []


def test_a_slug_given_to_another_location_is_kept_under_that_locations_generation(
    client, facial, location, practitioner
):
    """The picker remembers which location a slug names. When the slug moves to another
    clinic, that clinic's week is shown, and a booking there retires it."""
    slug = location.slug
    assert (
        'value="2026-12-07T09:00:00+00:00"' in _fragment(client, location, facial).content.decode()
    )
    location.slug = "moved-away"
    location.save()
    other = factories.LocationFactory(slug=slug)
    other_room = factories.RoomFactory(location=other)
    facial.rooms.add(other_room)
    practitioner.locations.add(other)
    WorkingHours.objects.filter(practitioner=practitioner).update(location=other)
    WorkingHours.objects.first().save()  # update() bypasses the signals that retire answers

    for _ in range(2):  # computed, then kept
        page = _fragment(client, other, facial, slug=slug).content.decode()
        assert 'value="2026-12-07T09:00:00+00:00"' in page
    _book(facial, other, practitioner, NINE)

    assert (
        'value="2026-12-07T09:00:00+00:00"'
        not in _fragment(client, other, facial, slug=slug).content.decode()
    )


def test_the_picker_fragment_is_kept_with_each_visitors_own_csrf_token(
    facial, location, practitioner
):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(reverse("site-book"))
    second.get(reverse("site-book"))
    _fragment(first, location, facial)
    with CaptureQueriesContext(connection) as queries:
        kept = _fragment(second, location, facial)

    assert kept.status_code == 200
    assert not [q for q in queries if "bookings_appointment" in q["sql"]]
    page = kept.content.decode()
    assert 'value="2026-12-07T09:00:00+00:00"' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    # The token in the kept fragment is this visitor's: their hold is accepted with it.
    held = second.post(
        reverse("site-hold", args=[location.slug, facial.slug]),
        {"start": NINE.isoformat(), "csrfmiddlewaretoken": token},
    )
    assert held.status_code == 302


def test_a_booking_retires_the_kept_picker_fragment(client, facial, location, practitioner):
    assert (
        'value="2026-12-07T09:00:00+00:00"' in _fragment(client, location, facial).content.decode()
    )

    _book(facial, location, practitioner, NINE)

    assert (
        'value="2026-12-07T09:00:00+00:00"'
        not in _fragment(client, location, facial).content.decode()
    )


def test_a_known_clients_own_week_is_neither_kept_nor_served_from_the_kept_fragment(
    facial, location, practitioner
):
    """The picker hides times the known client is busy elsewhere; that week is theirs alone,
    so it must not be kept for others, nor may they be given the week kept for everyone."""
    from bookings.views.site import PHONE_PROOF_KEY

    busy = factories.ClientFactory()
    colleague = factories.PractitionerFactory(display_name="Sam Roe")
    colleague.locations.add(location)
    peel = factories.ServiceFactory(name="Peel", duration_minutes=60)
    colleague.services.add(peel)
    factories.WorkingHoursFactory(practitioner=colleague, location=location, weekday=0)
    # The client is with a colleague 09:00-10:00; Pat Lee is free all morning.
    appointment_book(
        client=busy,
        service=peel,
        location=location,
        start_at=NINE,
        practitioner=colleague,
        actor=None,
    )

    known, anonymous = Client(), Client()
    session = known.session
    session[PHONE_PROOF_KEY] = {"client": busy.pk, "phone": busy.phone, "at": NOW.timestamp()}
    session.save()
    # Everyone's week is kept first; the known client must not be served it.
    everyone = _fragment(anonymous, location, facial).content.decode()
    theirs = _fragment(known, location, facial).content.decode()
    again = _fragment(anonymous, location, facial).content.decode()

    ten = 'value="2026-12-07T10:00:00+00:00"'
    half_nine = 'value="2026-12-07T09:30:00+00:00"'
    assert ten in everyone
    assert ten in theirs
    assert half_nine in everyone
    assert half_nine not in theirs  # overlaps their own 09:00-10:00 visit
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", again) == token.sub("", everyone)


class _CacheReads:
    """The cache, recording the keys each read asks for."""

    def __init__(self, real):
        self.real, self.reads = real, []

    def get_many(self, keys):
        self.reads.append(list(keys))
        return self.real.get_many(keys)

    def get(self, key, default=None):
        self.reads.append([key])
        return self.real.get(key, default)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _answer_keys(reads) -> list[str]:
    return [key for keys in reads for key in keys if key.startswith("availability:kept:")]


def test_a_process_holding_an_answer_reads_only_the_generations(
    client, facial, location, monkeypatch
):
    first = _month(client, facial, location)
    reads = _CacheReads(cache)
    monkeypatch.setattr(answers, "cache", reads)

    again = _month(client, facial, location)

    assert again.content == first.content
    assert len(reads.reads) == 1
    assert _answer_keys(reads.reads) == []


def test_an_answer_kept_by_another_process_is_read_once_then_held_here(
    client, facial, location, monkeypatch
):
    first = _month(client, facial, location)
    answers._kept_here.clear()  # as a process that did not compute it
    reads = _CacheReads(cache)
    monkeypatch.setattr(answers, "cache", reads)

    with CaptureQueriesContext(connection) as queries:
        from_the_shared_cache = _month(client, facial, location)
        from_here = _month(client, facial, location)

    assert from_the_shared_cache.content == from_here.content == first.content
    assert len(queries) == 0
    assert len(_answer_keys(reads.reads)) == 1


def test_a_change_made_by_another_process_retires_the_copy_held_here(
    client, facial, location, practitioner
):
    """Another process's booking: a row this process's receivers never saw, then that
    process's after-commit replacement of the location's generation."""
    assert NINE.isoformat() in _starts(_month(client, facial, location))
    _book_without_signals(facial, location, practitioner, NINE)
    assert NINE.isoformat() in _starts(_month(client, facial, location))  # still current

    answers._replace(answers._token_key(str(location.pk)))

    assert NINE.isoformat() not in _starts(_month(client, facial, location))


def test_the_copies_held_here_stay_within_their_byte_budget(settings):
    settings.AVAILABILITY_PROCESS_CACHE_BYTES = 10
    kept = answers._KeptHere()
    forever = wall_clock.time() + 3600

    kept.put("a", (forever, ["t"], b"aaaa"))
    kept.put("b", (forever, ["t"], b"bbbb"))
    assert kept.get("a") is not None  # a is now the most recently used
    kept.put("c", (forever, ["t"], b"cccc"))  # 12 bytes: the least recently used goes

    assert kept.get("b") is None
    assert kept.get("a") is not None
    assert kept.get("c") is not None
    kept.put("d", (forever, ["t"], b"d" * 11))  # bigger than the whole budget: not kept
    assert kept.get("d") is None
    assert kept.get("a") is not None
    kept.put("a", (forever, ["u"], b"a" * 6))  # replaced and counted once: 6 + 4 fit
    assert kept.get("c") is not None
    kept.put("a", (forever, ["v"], b"a" * 7))  # 7 + 4 do not: c, the older, goes
    assert kept.get("c") is None
    assert kept.get("a") == (forever, ["v"], b"a" * 7)

    settings.AVAILABILITY_PROCESS_CACHE_BYTES = 0
    kept.put("e", (forever, ["t"], b"e"))
    assert kept.get("e") is None
