"""Reply triage: a worrying text is urgent whatever we last sent, linked to the client's most
recent treatment, answered at once with who to call, and first in the inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from bookings.models import Appointment
from reminders import services
from reminders.models import InboundMessage, RedFlag, StaffAlert
from reminders.selectors import inbox_items
from tests.reminders.conftest import utc

pytestmark = pytest.mark.django_db

AFTERNOON = utc(2026, 5, 12, 14)  # 15:00 BST, the clinic is open
NIGHT = utc(2026, 5, 13, 1)  # 02:00 BST


def _receive(phone: str, body: str, *, now=AFTERNOON) -> InboundMessage:
    with time_machine.travel(now, tick=False):
        result = services.inbound_receive(
            provider_sid=f"SM{InboundMessage.objects.count():032d}",
            from_number=phone,
            to_number="+447700900001",
            body=body,
        )
    result.inbound.refresh_from_db()
    return result.inbound


@pytest.fixture
def treated_an_hour_ago(book, client_person):
    """A treatment that ended an hour before AFTERNOON; no aftercare text has gone out yet."""
    return book(
        start_at=AFTERNOON - timedelta(hours=2), status=Appointment.Status.COMPLETED, send=False
    )


# The ten sample replies of the closing note: (text, urgent?, red-flag categories).
SAMPLE_REPLIES = [
    (
        "my face is really swollen and hot and there is some pus, is that normal?",
        True,
        ["infection", "allergy", "after_treatment"],
    ),
    ("I've got hives all over my neck and chest", True, ["allergy"]),
    (
        "my lips are swelling up and I'm having trouble breathing",
        True,
        ["allergy", "after_treatment"],
    ),
    ("it's been an hour and the bleeding won't stop", True, ["bleeding", "after_treatment"]),
    ("there are little blisters on my cheek this morning", True, ["blisters"]),
    ("the pain is getting worse not better", True, ["pain", "after_treatment"]),
    ("my vision has gone blurry in one eye", True, ["vision"]),
    ("I have a fever and the redness is spreading down my neck", True, ["infection"]),
    ("thanks, all fine, a bit red like a mild sunburn", False, []),
    ("Can I move my next session to Friday?", False, []),
]


@pytest.mark.parametrize(("body", "urgent", "categories"), SAMPLE_REPLIES)
def test_sample_replies_are_triaged_by_red_flag_class(
    body, urgent, categories, client_person, treated_an_hour_ago
):
    inbound = _receive(client_person.phone, body)

    assert inbound.is_urgent is urgent
    assert inbound.red_flags == categories
    if urgent:
        assert inbound.appointment == treated_an_hour_ago
        assert "call 999" in inbound.reply_body
    else:
        assert inbound.reply_body == ""


def test_a_red_flag_an_hour_after_treatment_is_urgent_with_no_aftercare_text_sent(
    client_person, treated_an_hour_ago, practitioner_user, settings
):
    # The reported case: nothing had been sent since the treatment.
    inbound = _receive(
        client_person.phone,
        "my face is really swollen and hot and there is some pus, is that normal?",
    )

    assert inbound.is_urgent
    assert inbound.appointment == treated_an_hour_ago
    assert inbound.handled_at is None
    assert inbound.reply_body.startswith("Clinic")
    assert "your practitioner" in inbound.reply_body
    assert "swelling of the lips or face, call 999" in inbound.reply_body
    assert list(StaffAlert.objects.values_list("recipient", flat=True)) == [practitioner_user.pk]
    assert list(inbox_items())[0] == inbound


def test_an_urgent_reply_sorts_before_older_and_newer_ordinary_replies(
    client_person, treated_an_hour_ago
):
    _receive(client_person.phone, "Is parking free?", now=AFTERNOON - timedelta(minutes=5))
    urgent = _receive(client_person.phone, "the bleeding won't stop")
    _receive(client_person.phone, "ok thanks", now=AFTERNOON + timedelta(minutes=5))

    assert [item.pk for item in inbox_items()][0] == urgent.pk


def test_out_of_hours_the_answer_gives_the_urgent_number_and_the_emergency_line(
    client_person, treated_an_hour_ago, location
):
    inbound = _receive(client_person.phone, "I've got hives all over", now=NIGHT)

    assert inbound.is_urgent
    assert "closed now" in inbound.reply_body
    assert location.urgent_phone in inbound.reply_body
    assert "call 999" in inbound.reply_body


def test_the_emergency_number_is_the_locations(client_person, treated_an_hour_ago, location):
    location.emergency_number = "911"
    location.save()

    inbound = _receive(client_person.phone, "I can't breathe properly")

    assert "call 911" in inbound.reply_body


def test_a_red_flag_with_no_treatment_on_record_is_still_urgent_and_linked_to_nothing(
    client_person, location, manager
):
    manager.email = "mona@clinic.example"
    manager.save()

    inbound = _receive(client_person.phone, "I have a fever and there is pus")

    assert inbound.is_urgent
    assert inbound.appointment is None
    assert "call 999" in inbound.reply_body
    assert StaffAlert.objects.get().recipient == manager


def test_a_red_flag_months_after_treatment_links_the_last_treatment(book, client_person):
    old = book(
        start_at=AFTERNOON - timedelta(days=90), status=Appointment.Status.COMPLETED, send=False
    )

    inbound = _receive(client_person.phone, "there are blisters round my mouth")

    assert inbound.is_urgent
    assert inbound.appointment == old


def test_soft_words_count_only_within_fourteen_days_of_a_treatment(book, client_person):
    book(start_at=AFTERNOON - timedelta(days=20), status=Appointment.Status.COMPLETED, send=False)
    no_longer_recent = _receive(client_person.phone, "no pain no gain, see you Tuesday")
    book(start_at=AFTERNOON - timedelta(days=3), status=Appointment.Status.COMPLETED, send=False)
    recent = _receive(client_person.phone, "still a little swelling, is that ok?")

    assert not no_longer_recent.is_urgent
    assert recent.is_urgent
    assert recent.red_flags == ["after_treatment"]


def test_a_cancelled_treatment_does_not_count_as_treated(book, client_person):
    book(start_at=AFTERNOON - timedelta(days=1), status=Appointment.Status.CANCELLED, send=False)

    inbound = _receive(client_person.phone, "a little swelling today")

    assert not inbound.is_urgent
    assert inbound.appointment is None


def test_a_harmless_reply_is_left_for_staff_without_an_answer(client_person, treated_an_hour_ago):
    inbound = _receive(client_person.phone, "thanks, all fine")

    assert not inbound.is_urgent
    assert inbound.reply_body == ""
    assert not StaffAlert.objects.exists()


def test_red_flags_are_data_a_clinic_can_switch_off(client_person, treated_an_hour_ago):
    RedFlag.objects.filter(category=RedFlag.Category.VISION).update(is_active=False)

    inbound = _receive(client_person.phone, "my vision has gone blurry")

    assert not inbound.is_urgent


def test_a_red_flag_from_an_unknown_number_is_left_for_staff(location):
    inbound = _receive("+447700900123", "there is pus")

    assert inbound.client is None
    assert inbound.is_urgent
    assert inbound.appointment is None


def test_an_invalid_pattern_is_refused_by_validation():
    flag = RedFlag(category=RedFlag.Category.PAIN, pattern="(unclosed")

    with pytest.raises(Exception, match="Not a valid pattern"):
        flag.full_clean()


def test_a_keyword_is_never_triaged(client_person, treated_an_hour_ago):
    inbound = _receive(client_person.phone, "STOP")

    assert inbound.kind == InboundMessage.Kind.STOP
    assert not inbound.is_urgent
