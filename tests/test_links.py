"""Manage and care links: short signed tokens, and links sent in the earlier, longer form
(``signing.dumps``) still open what they named until their own expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing

from bookings.tokens import MANAGE_GRACE, MANAGE_SALT, appointment_id_from_manage_token
from clinic.errors import Gone, NotFound
from clinic.links import link_token_for, link_token_read
from reminders.tokens import CARE_GRACE, CARE_SALT, appointment_id_from_care_token

END_AT = datetime(2026, 5, 22, 14, tzinfo=UTC)
TEN_DIGITS = 9_999_999_999


def _earlier_form(*, salt: str, appointment_id: int, expires_at: datetime) -> str:
    """A link as sent before the short form: what ``signing.dumps`` made of the same fields."""
    return signing.dumps(
        {"a": appointment_id, "e": int(expires_at.timestamp())}, salt=salt, compress=True
    )


def test_a_link_names_its_row_and_expiry_and_is_shorter_than_the_earlier_form():
    expires_at = END_AT + CARE_GRACE
    token = link_token_for(salt=CARE_SALT, object_id=TEN_DIGITS, expires_at=expires_at)
    earlier = _earlier_form(salt=CARE_SALT, appointment_id=TEN_DIGITS, expires_at=expires_at)

    assert link_token_read(token, salt=CARE_SALT) == (TEN_DIGITS, int(expires_at.timestamp()))
    assert len(earlier) - len(token) >= 18


@pytest.mark.parametrize(
    ("salt", "grace", "read"),
    [
        (MANAGE_SALT, MANAGE_GRACE, appointment_id_from_manage_token),
        (CARE_SALT, CARE_GRACE, appointment_id_from_care_token),
    ],
)
def test_a_link_sent_in_the_earlier_form_opens_until_its_expiry_and_not_after(salt, grace, read):
    expires_at = END_AT + grace
    earlier = _earlier_form(salt=salt, appointment_id=42, expires_at=expires_at)

    with time_machine.travel(expires_at - timedelta(minutes=1), tick=False):
        assert read(earlier) == 42
    with time_machine.travel(expires_at + timedelta(minutes=1), tick=False), pytest.raises(Gone):
        read(earlier)


@pytest.mark.parametrize(
    ("salt", "read"),
    [(MANAGE_SALT, appointment_id_from_manage_token), (CARE_SALT, appointment_id_from_care_token)],
)
def test_a_link_signed_for_another_purpose_or_tampered_with_opens_nothing(salt, read):
    expires_at = END_AT + timedelta(days=400)
    other_salt = MANAGE_SALT if salt == CARE_SALT else CARE_SALT
    genuine = link_token_for(salt=salt, object_id=42, expires_at=expires_at)
    for token in [
        link_token_for(salt=other_salt, object_id=42, expires_at=expires_at),
        _earlier_form(salt=other_salt, appointment_id=42, expires_at=expires_at),
        genuine[:-2] + ("BB" if genuine.endswith("AA") else "AA"),
        # Well signed, wrong shape: a single number, or the earlier fields in the short form.
        signing.Signer(salt=salt).sign_object(42),
        signing.Signer(salt=salt).sign_object({"a": 42, "e": int(expires_at.timestamp())}),
    ]:
        with time_machine.travel(END_AT, tick=False), pytest.raises(NotFound):
            read(token)
