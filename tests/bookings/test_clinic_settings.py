"""Clinic settings services: managers only, validation naming the field, nothing half-saved,
every change audited, repeating closures honoured by availability, and booked visits never
silently stranded by new hours or time off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from bookings import services
from bookings.availability import free_slots
from bookings.services.clinic_settings import (
    AppointmentsAffected,
    HoursRange,
    location_save,
    service_save,
    service_set_active,
    time_off_add,
    time_off_remove,
    working_hours_parse,
    working_hours_set,
)
from clinic.errors import PermissionDenied, ValidationFailed
from clinic.models import Location, Service, SettingsChange, TimeOff, WorkingHours
from clinic.recurrence import occurrences
from tests import factories

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)  # a Tuesday


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(client_person, consultation_service, location, practitioner):
    """Booked for Wednesday 2 December, 10:00."""
    return services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=datetime(2026, 12, 2, 10, tzinfo=LONDON),
    )


def _location_values(**overrides: str) -> dict[str, str]:
    return {
        "name": "Marylebone",
        "address": "1 High Street",
        "timezone": "Europe/London",
        "phone": "020 7946 0000",
        "urgent_phone": "020 7946 0001",
        "emergency_number": "999",
        **{f"open{day}": "09:00" for day in range(6)},
        **{f"close{day}": "18:00" for day in range(6)},
        "closed6": "on",
        "online_change_cutoff_hours": "24",
        "online_upcoming_treatments_limit": "2",
        "online_upcoming_consultations_limit": "1",
        "practitioners_see": "own_clients",
        "is_active": "on",
        **overrides,
    }


def _service_values(**overrides: str) -> dict[str, str]:
    return {
        "name": "Chemical peel",
        "kind": "treatment",
        "summary": "A light peel",
        "description": "",
        "duration_minutes": "45",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "10",
        "slot_step_minutes": "15",
        "price": "120.00",
        "requires_consultation": "on",
        "consultation_validity_days": "180",
        "course_size": "3",
        "min_interval_days": "21",
        "is_online_bookable": "on",
        "min_lead_minutes": "120",
        "horizon_days": "90",
        "display_order": "5",
        **overrides,
    }


# ---------------------------------------------------------------------------------------------
# Locations


def test_a_manager_adds_a_location_with_numbers_stored_in_e164_and_the_change_audited(manager):
    location = location_save(actor=manager, location=None, values=_location_values())

    location.refresh_from_db()
    assert location.urgent_phone == "+442079460001"
    assert location.phone == "+442079460000"
    assert location.slug == "marylebone"
    change = SettingsChange.objects.get(entity="location", object_id=location.pk)
    assert change.actor == manager
    assert change.changes["urgent_phone"] == ["", "+442079460001"]


def test_the_front_desk_week_is_saved_per_weekday_and_closed_days_are_closed(manager, location):
    assert location.desk_hours_on(date(2026, 12, 6)) == (time(9), time(19))  # before: every day

    location_save(
        actor=manager,
        location=location,
        values=_location_values(name=location.name, open5="10:00", close5="14:00"),
    )

    location.refresh_from_db()
    assert location.desk_hours_on(date(2026, 12, 5)) == (time(10), time(14))  # Saturday
    assert location.desk_hours_on(date(2026, 12, 6)) is None  # Sunday
    assert location.desk_hours_on(date(2026, 12, 7)) == (time(9), time(18))
    change = SettingsChange.objects.get(entity="location")
    before, after = change.changes["opening_hours"]
    assert before[6] == "Sunday 09:00–19:00"
    assert after[5:] == ["Saturday 10:00–14:00", "Sunday closed"]


def test_replies_out_of_the_desk_hours_of_that_weekday_get_the_closed_answer(manager, location):
    from reminders.services.inbound import _is_open

    location_save(actor=manager, location=location, values=_location_values(name=location.name))

    assert _is_open(location, datetime(2026, 12, 7, 12, tzinfo=LONDON))  # Monday noon
    assert not _is_open(location, datetime(2026, 12, 6, 12, tzinfo=LONDON))  # Sunday: closed
    assert not _is_open(location, datetime(2026, 12, 7, 18, 30, tzinfo=LONDON))


def test_editing_a_location_records_before_and_after_of_what_changed_only(manager, location):
    location_save(
        actor=manager,
        location=location,
        values=_location_values(name=location.name, urgent_phone="020 7946 0999"),
    )

    change = SettingsChange.objects.get(entity="location", object_id=location.pk)
    assert change.changes["urgent_phone"] == ["+447700900999", "+442079460999"]
    assert "name" not in change.changes


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Europe/Londres", "IANA"),
        ("urgent_phone", "12345", "phone number"),
        ("urgent_phone", "020 7946", "valid phone number"),
        ("emergency_number", "nine", "digits"),
        ("close1", "08:00", "close after it opens"),
        ("open1", "25:00", "time like 09:30"),
        ("open2", "", "or tick closed"),
        ("online_change_cutoff_hours", "-1", "whole number"),
        ("online_upcoming_treatments_limit", "0", "at least 1"),
        ("name", "", "name"),
        ("practitioners_see", "everyone", "Choose"),
    ],
)
def test_a_wrong_location_field_is_named_and_nothing_is_saved(
    manager, location, field, value, message
):
    before = Location.objects.get(pk=location.pk)

    with pytest.raises(ValidationFailed) as refused:
        location_save(actor=manager, location=location, values=_location_values(**{field: value}))

    assert refused.value.field == field
    assert message in refused.value.message
    after = Location.objects.get(pk=location.pk)
    assert (after.name, after.urgent_phone, after.timezone) == (
        before.name,
        before.urgent_phone,
        before.timezone,
    )
    assert not SettingsChange.objects.exists()


@pytest.mark.parametrize("who", ["reception", "practitioner_user", "stranger"])
def test_only_managers_change_settings(request, who, location):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        location_save(actor=actor, location=location, values=_location_values())
    with pytest.raises(PermissionDenied):
        service_save(actor=actor, service=None, values=_service_values(), room_ids=[])


def test_the_admin_refuses_what_the_pages_refuse(location):
    """The rules are the model's clean(), which the admin's forms run."""
    location.urgent_phone = "12345"
    with pytest.raises(ValidationError) as refused:
        location.full_clean()
    assert "urgent_phone" in refused.value.message_dict
    service = Service(name="X", slug="x", duration_minutes=30, price=-1)
    with pytest.raises(ValidationError) as refused:
        service.full_clean()
    assert "price" in refused.value.message_dict


# ---------------------------------------------------------------------------------------------
# Services


def test_a_manager_adds_a_service_with_money_in_pounds_and_rooms(manager, room):
    service = service_save(
        actor=manager, service=None, values=_service_values(), room_ids=[str(room.pk)]
    )

    service.refresh_from_db()
    assert service.price == Decimal("120.00")
    assert (service.course_size, service.min_interval_days) == (3, 21)
    assert list(service.rooms.all()) == [room]
    assert service.requires_consultation
    change = SettingsChange.objects.get(entity="service", object_id=service.pk)
    assert change.changes["rooms"] == [[], [str(room)]]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "12.345", "pounds and pence"),
        ("price", "abc", "pounds and pence"),
        ("duration_minutes", "3", "at least 5"),
        ("duration_minutes", "600", "8 hours"),
        ("course_size", "0", "at least 1"),
        ("horizon_days", "1000", "730"),
        ("kind", "massage", "consultation or treatment"),
    ],
)
def test_a_wrong_service_field_is_named_and_nothing_is_saved(manager, field, value, message):
    with pytest.raises(ValidationFailed) as refused:
        service_save(
            actor=manager, service=None, values=_service_values(**{field: value}), room_ids=[]
        )

    assert refused.value.field == field
    assert message in refused.value.message
    assert not Service.objects.filter(name="Chemical peel").exists()


def test_a_single_session_has_no_gap_between_sessions(manager):
    with pytest.raises(ValidationFailed) as refused:
        service_save(
            actor=manager,
            service=None,
            values=_service_values(course_size="1", min_interval_days="14"),
            room_ids=[],
        )
    assert refused.value.field == "min_interval_days"


def test_a_consultation_never_requires_a_consultation(manager):
    service = service_save(
        actor=manager, service=None, values=_service_values(kind="consultation"), room_ids=[]
    )
    assert not service.requires_consultation


def test_archiving_keeps_the_service_and_its_visits_and_is_audited(
    manager, consultation, consultation_service
):
    service_set_active(actor=manager, service=consultation_service, is_active=False)

    consultation_service.refresh_from_db()
    assert not consultation_service.is_active
    consultation.refresh_from_db()
    assert consultation.service_id == consultation_service.pk
    assert SettingsChange.objects.get(entity="service").changes == {"is_active": [True, False]}


# ---------------------------------------------------------------------------------------------
# Working hours


def _week(**days: list[tuple[str, str]]) -> list[HoursRange]:
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    values = {}
    for name, ranges in days.items():
        for index, (start, end) in enumerate(ranges):
            values[f"d{names.index(name)}_{index}_start"] = start
            values[f"d{names.index(name)}_{index}_end"] = end
    return working_hours_parse(values)


def test_the_grid_is_parsed_into_ranges_and_a_half_filled_range_is_named():
    ranges = _week(tuesday=[("09:00", "13:00"), ("14:00", "18:00")])
    assert ranges == [
        HoursRange(1, time(9), time(13)),
        HoursRange(1, time(14), time(18)),
    ]
    with pytest.raises(ValidationFailed) as refused:
        working_hours_parse({"d2_0_start": "09:00"})
    assert refused.value.field == "d2_0_end"
    with pytest.raises(ValidationFailed) as refused:
        working_hours_parse({"d2_0_start": "15:00", "d2_0_end": "09:00"})
    assert refused.value.field == "d2_0_end"


def test_replacing_a_pattern_changes_what_can_be_booked_and_is_audited(
    manager, practitioner, location, consultation_service
):
    tuesday = date(2026, 12, 8)
    working_hours_set(
        actor=manager,
        practitioner=practitioner,
        location=location,
        ranges=_week(tuesday=[("13:00", "15:00")]),
        valid_from=None,
        valid_until=None,
        replacing=(None, None),
    )

    starts = {
        slot.start_at.astimezone(LONDON).time()
        for slot in free_slots(
            service=consultation_service, location=location, start_date=tuesday, end_date=tuesday
        )
    }
    assert min(starts) == time(13)
    assert max(starts) == time(14, 30)
    assert WorkingHours.objects.filter(practitioner=practitioner).count() == 1
    change = SettingsChange.objects.get(entity="working_hours")
    assert change.changes["hours"][1] == ["Tuesday 13:00–15:00"]
    assert len(change.changes["hours"][0]) == 5


def test_overlapping_ranges_and_hours_elsewhere_at_the_same_time_are_refused(
    manager, practitioner, location
):
    with pytest.raises(ValidationFailed, match="overlap"):
        working_hours_set(
            actor=manager,
            practitioner=practitioner,
            location=location,
            ranges=_week(monday=[("09:00", "13:00"), ("12:00", "15:00")]),
            valid_from=None,
            valid_until=None,
            replacing=(None, None),
        )
    elsewhere = factories.LocationFactory(name="Elsewhere")
    practitioner.locations.add(elsewhere)
    with pytest.raises(ValidationFailed, match="overlap 09:00–17:00 at"):
        working_hours_set(
            actor=manager,
            practitioner=practitioner,
            location=elsewhere,
            ranges=_week(monday=[("16:00", "19:00")]),
            valid_from="2027-01-01",
            valid_until="",
            replacing=None,
        )
    assert WorkingHours.objects.filter(practitioner=practitioner).count() == 5


def test_new_hours_that_strand_a_booked_visit_are_refused_until_confirmed(
    manager, practitioner, location, consultation
):
    """The consultation is Wednesday 10:00; Wednesdays become afternoons only."""
    new_week = _week(
        monday=[("09:00", "17:00")],
        tuesday=[("09:00", "17:00")],
        wednesday=[("13:00", "17:00")],
        thursday=[("09:00", "17:00")],
        friday=[("09:00", "17:00")],
    )
    with pytest.raises(AppointmentsAffected) as refused:
        working_hours_set(
            actor=manager,
            practitioner=practitioner,
            location=location,
            ranges=new_week,
            valid_from=None,
            valid_until=None,
            replacing=(None, None),
        )
    assert refused.value.extra["appointment_ids"] == [consultation.pk]
    assert WorkingHours.objects.filter(weekday=2, start_time=time(9)).exists()

    working_hours_set(
        actor=manager,
        practitioner=practitioner,
        location=location,
        ranges=new_week,
        valid_from=None,
        valid_until=None,
        replacing=(None, None),
        confirm=True,
    )
    assert WorkingHours.objects.get(weekday=2).start_time == time(13)
    consultation.refresh_from_db()
    assert consultation.status == "booked"
    change = SettingsChange.objects.get(entity="working_hours")
    assert change.changes["visits_outside_hours"] == [None, [consultation.pk]]


def test_new_hours_from_a_date_can_end_the_current_ones_the_day_before(
    manager, practitioner, location, consultation_service
):
    new_tuesday = date(2027, 1, 5)
    with pytest.raises(ValidationFailed, match="overlap"):
        working_hours_set(
            actor=manager,
            practitioner=practitioner,
            location=location,
            ranges=_week(tuesday=[("13:00", "17:00")]),
            valid_from="2027-01-04",
            valid_until="",
        )

    working_hours_set(
        actor=manager,
        practitioner=practitioner,
        location=location,
        ranges=_week(tuesday=[("13:00", "17:00")]),
        valid_from="2027-01-04",
        valid_until="",
        end_current=True,
    )

    def first_start(day: date) -> time:
        slots = free_slots(
            service=consultation_service, location=location, start_date=day, end_date=day
        )
        return min(slot.start_at.astimezone(LONDON).time() for slot in slots)

    assert first_start(date(2026, 12, 8)) == time(9)
    assert first_start(new_tuesday) == time(13)
    assert not free_slots(
        service=consultation_service,
        location=location,
        start_date=date(2027, 1, 6),
        end_date=date(2027, 1, 6),
    )
    assert set(
        WorkingHours.objects.filter(valid_from=None).values_list("valid_until", flat=True)
    ) == {date(2027, 1, 3)}


def test_a_visit_already_outside_hours_is_not_reported_again(manager, practitioner, location):
    """Staff booked Saturday 12:00 on purpose; changing Monday's hours is not about it."""
    saturday = factories.AppointmentFactory(
        practitioner=practitioner,
        location=location,
        start_at=datetime(2026, 12, 5, 12, tzinfo=LONDON),
        status="booked",
    )
    working_hours_set(
        actor=manager,
        practitioner=practitioner,
        location=location,
        ranges=_week(
            monday=[("10:00", "17:00")],
            tuesday=[("09:00", "17:00")],
            wednesday=[("09:00", "17:00")],
            thursday=[("09:00", "17:00")],
            friday=[("09:00", "17:00")],
        ),
        valid_from=None,
        valid_until=None,
        replacing=(None, None),
    )
    change = SettingsChange.objects.get(entity="working_hours")
    assert saturday.pk not in change.changes["visits_outside_hours"][1]
    assert WorkingHours.objects.get(weekday=0).start_time == time(10)


# ---------------------------------------------------------------------------------------------
# Time off and repeating closures


def test_weekly_occurrences_keep_the_wall_clock_across_the_clock_change():
    first = datetime(2027, 3, 22, 9, tzinfo=LONDON)  # a Monday in GMT
    found = list(
        occurrences(
            start_at=first.astimezone(UTC),
            end_at=(first + timedelta(hours=8)).astimezone(UTC),
            repeats="weekly",
            repeat_until=date(2027, 4, 5),
            zone=LONDON,
            window_start_at=datetime(2027, 3, 1, tzinfo=UTC),
            window_end_at=datetime(2027, 6, 1, tzinfo=UTC),
        )
    )
    assert [(start.date(), start.time(), end.time()) for start, end in found] == [
        (date(2027, 3, 22), time(9), time(17)),
        (date(2027, 3, 29), time(9), time(17)),  # BST now: an hour earlier in UTC
        (date(2027, 4, 5), time(9), time(17)),
    ]
    assert found[1][0].astimezone(UTC).hour == 8


def test_yearly_occurrences_fall_on_the_same_date_and_only_in_the_window():
    first = datetime(2020, 12, 25, 0, tzinfo=LONDON)
    found = list(
        occurrences(
            start_at=first,
            end_at=first + timedelta(days=1),
            repeats="yearly",
            repeat_until=None,
            zone=LONDON,
            window_start_at=datetime(2026, 12, 1, tzinfo=UTC),
            window_end_at=datetime(2027, 1, 31, tzinfo=UTC),
        )
    )
    assert [start.date() for start, _ in found] == [date(2026, 12, 25)]


def test_a_closure_every_monday_leaves_no_monday_slot_until_its_last_day(
    manager, practitioner, location, consultation_service
):
    time_off_add(
        actor=manager,
        location=location,
        practitioner=None,
        start_at="2026-12-07T00:00",
        end_at="2026-12-08T00:00",
        reason="Closed on Mondays",
        repeats="weekly",
        repeat_until="2026-12-21",
    )

    def mondays_free(day: date) -> int:
        return len(
            free_slots(
                service=consultation_service, location=location, start_date=day, end_date=day
            )
        )

    assert mondays_free(date(2026, 12, 7)) == 0
    assert mondays_free(date(2026, 12, 14)) == 0
    assert mondays_free(date(2026, 12, 21)) == 0
    assert mondays_free(date(2026, 12, 28)) > 0
    assert (
        len(
            free_slots(
                service=consultation_service,
                location=location,
                start_date=date(2026, 12, 8),
                end_date=date(2026, 12, 8),
            )
        )
        > 0
    )
    change = SettingsChange.objects.get(entity="time_off")
    assert "every week until 21 Dec 2026" in change.changes["time_off"][1]


def test_christmas_every_year_is_closed_in_later_years_too(
    manager, practitioner, location, consultation_service
):
    time_off_add(
        actor=manager,
        location=location,
        practitioner=None,
        start_at="2026-12-25T00:00",
        end_at="2026-12-26T00:00",
        reason="Christmas Day",
        repeats="yearly",
    )
    # 25 December 2030 is a Wednesday, a working day.
    christmas = date(2030, 12, 25)
    consultation_service.horizon_days = 3000
    assert (
        free_slots(
            service=consultation_service,
            location=location,
            start_date=christmas,
            end_date=christmas,
        )
        == []
    )
    boxing_day = christmas + timedelta(days=1)
    assert free_slots(
        service=consultation_service, location=location, start_date=boxing_day, end_date=boxing_day
    )


def test_time_off_over_a_booked_visit_is_refused_until_confirmed(
    manager, practitioner, location, consultation
):
    with pytest.raises(AppointmentsAffected) as refused:
        time_off_add(
            actor=manager,
            location=location,
            practitioner=practitioner,
            start_at="2026-12-02T09:00",
            end_at="2026-12-02T12:00",
            reason="Training",
        )
    assert refused.value.extra["appointment_ids"] == [consultation.pk]
    assert not TimeOff.objects.exists()

    block = time_off_add(
        actor=manager,
        location=location,
        practitioner=practitioner,
        start_at="2026-12-02T09:00",
        end_at="2026-12-02T12:00",
        reason="Training",
        confirm=True,
    )
    assert block.start_at == datetime(2026, 12, 2, 9, tzinfo=LONDON)


def test_a_repeating_closure_finds_the_visits_of_later_weeks(manager, practitioner, location):
    later = services.appointment_book(
        client=factories.ClientFactory(),
        service=practitioner.services.get(kind="consultation"),
        location=location,
        start_at=datetime(2026, 12, 16, 11, tzinfo=LONDON),  # a Wednesday two weeks on
    )
    with pytest.raises(AppointmentsAffected) as refused:
        time_off_add(
            actor=manager,
            location=location,
            practitioner=None,
            start_at="2026-12-02T00:00",
            end_at="2026-12-03T00:00",
            reason="Closed on Wednesdays",
            repeats="weekly",
        )
    assert later.pk in refused.value.extra["appointment_ids"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_at": "tomorrow"}, "start_at"),
        ({"end_at": "2026-12-01T08:00"}, "end_at"),
        ({"repeats": "monthly"}, "repeats"),
        ({"repeat_until": "2026-12-05"}, "repeat_until"),
        ({"repeats": "weekly", "end_at": "2026-12-20T09:00"}, "end_at"),
        ({"repeats": "weekly", "repeat_until": "2026-11-01"}, "repeat_until"),
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_wrong_time_off_is_named_and_nothing_is_saved(manager, location, overrides, field):
    values = {
        "start_at": "2026-12-02T09:00",
        "end_at": "2026-12-02T12:00",
        "reason": "",
        "repeats": "",
        "repeat_until": None,
        **overrides,
    }
    with pytest.raises(ValidationFailed) as refused:
        time_off_add(actor=manager, location=location, practitioner=None, **values)
    assert refused.value.field == field
    assert not TimeOff.objects.exists()
    assert not SettingsChange.objects.exists()


def test_removing_time_off_is_audited(manager, location):
    block = time_off_add(
        actor=manager,
        location=location,
        practitioner=None,
        start_at="2026-12-24T13:00",
        end_at="2026-12-24T18:00",
        reason="Christmas Eve",
    )
    time_off_remove(actor=manager, block=block, location=location)

    assert not TimeOff.objects.exists()
    removal = SettingsChange.objects.filter(entity="time_off").first()
    assert removal.summary.startswith("Removed time off: Thu 24 Dec 2026 13:00 – 18:00")


def test_the_admin_refuses_a_bad_urgent_number_and_audits_what_it_saves(admin_user, location, rf):
    from django.contrib import admin

    model_admin = admin.site._registry[Location]
    request = rf.post("/")
    request.user = admin_user
    form_class = model_admin.get_form(request, location, change=True)
    data = {
        field: getattr(location, field)
        for field in form_class.base_fields
        if getattr(location, field, None) is not None
    }
    bad = form_class(data={**data, "urgent_phone": "12345"}, instance=location)
    assert not bad.is_valid()
    assert "urgent_phone" in bad.errors

    fresh = Location.objects.get(pk=location.pk)
    good = form_class(data={**data, "urgent_phone": "020 7946 0002"}, instance=fresh)
    assert good.is_valid(), good.errors
    model_admin.save_model(request, good.save(commit=False), good, change=True)

    location.refresh_from_db()
    assert location.urgent_phone == "+442079460002"
    change = SettingsChange.objects.get(entity="location")
    assert change.actor == admin_user
    assert change.changes["urgent_phone"] == ["+447700900999", "+442079460002"]
