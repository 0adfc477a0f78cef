from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing

from bookings.models import PhoneVerification
from bookings.services.verification import (
    VerificationInvalid,
    VerificationRateLimited,
    VerificationRequired,
    verification_check,
    verification_start,
    verification_token_redeem,
    verifications_delete_old,
)
from clinic.errors import Gone, NotFound, ValidationFailed

PHONE = "+447911123456"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def start(phone: str = PHONE, *, ip: str = "203.0.113.5", at: datetime = NOW, location=None):
    return verification_start(phone=phone, ip=ip, location=location, now=at)


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 10**6:06d}"


@pytest.mark.django_db
def test_starting_a_verification_sends_a_six_digit_code_and_stores_only_its_hash(sent_codes):
    verification = start()

    assert len(sent_codes) == 1
    code = sent_codes[0]["code"]
    assert len(code) == 6
    assert code.isdigit()
    assert sent_codes[0]["phone"] == PHONE
    assert verification.code_hash != code
    assert code not in verification.code_hash
    assert len(verification.code_hash) == 64
    assert verification.expires_at == NOW + timedelta(minutes=10)
    assert verification.attempts == 0


@pytest.mark.django_db
def test_a_national_number_is_normalised_with_the_locations_country(sent_codes, location):
    verification = start("07911 123456", location=location)

    assert verification.phone == PHONE
    assert sent_codes[0]["phone"] == PHONE


@pytest.mark.django_db
def test_an_invalid_phone_is_refused_naming_the_field(sent_codes):
    with pytest.raises(ValidationFailed) as refused:
        start("12345")

    assert refused.value.field == "phone"
    assert sent_codes == []
    assert not PhoneVerification.objects.exists()


@pytest.mark.django_db
def test_the_right_code_returns_a_token_that_proves_the_phone(sent_codes):
    verification = start()

    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        token = verification_check(
            handle=verification.handle,
            code=sent_codes[0]["code"],
            now=NOW + timedelta(minutes=2),
        )
        verification_token_redeem(token=token, phone=PHONE)

    verification.refresh_from_db()
    assert verification.verified_at == NOW + timedelta(minutes=2)


@pytest.mark.django_db
def test_a_code_typed_with_spaces_is_accepted(sent_codes):
    verification = start()
    code = sent_codes[0]["code"]

    token = verification_check(handle=verification.handle, code=f" {code[:3]} {code[3:]} ", now=NOW)

    assert token


@pytest.mark.django_db
def test_a_wrong_code_counts_an_attempt_and_says_how_many_are_left(sent_codes):
    verification = start()

    with pytest.raises(ValidationFailed) as refused:
        verification_check(
            handle=verification.handle, code=wrong_code(sent_codes[0]["code"]), now=NOW
        )

    assert refused.value.field == "code"
    assert "4 tries left" in refused.value.message
    verification.refresh_from_db()
    assert verification.attempts == 1
    assert verification.verified_at is None


@pytest.mark.django_db
def test_after_five_wrong_codes_even_the_right_code_is_refused(sent_codes):
    verification = start()
    right = sent_codes[0]["code"]
    for _ in range(4):
        with pytest.raises(ValidationFailed):
            verification_check(handle=verification.handle, code=wrong_code(right), now=NOW)
    with pytest.raises(Gone, match="last try"):
        verification_check(handle=verification.handle, code=wrong_code(right), now=NOW)

    with pytest.raises(Gone, match="Too many wrong tries"):
        verification_check(handle=verification.handle, code=right, now=NOW)
    verification.refresh_from_db()
    assert verification.attempts == 5
    assert verification.verified_at is None


@pytest.mark.django_db
def test_a_code_expires_after_ten_minutes(sent_codes):
    verification = start()

    with pytest.raises(Gone, match="expired"):
        verification_check(
            handle=verification.handle,
            code=sent_codes[0]["code"],
            now=NOW + timedelta(minutes=10),
        )


@pytest.mark.django_db
def test_a_code_works_only_once(sent_codes):
    verification = start()
    verification_check(handle=verification.handle, code=sent_codes[0]["code"], now=NOW)

    with pytest.raises(Gone, match="already been used"):
        verification_check(handle=verification.handle, code=sent_codes[0]["code"], now=NOW)


@pytest.mark.django_db
def test_an_unknown_verification_is_not_found():
    with pytest.raises(NotFound):
        verification_check(handle="no-such-handle", code="123456", now=NOW)


@pytest.mark.django_db
def test_a_resend_within_a_minute_is_refused_with_the_wait(sent_codes):
    start()

    with pytest.raises(VerificationRateLimited) as refused:
        start(at=NOW + timedelta(seconds=20))

    assert refused.value.status == 429
    assert refused.value.extra["retry_after"] == 40
    assert len(sent_codes) == 1
    assert start(at=NOW + timedelta(seconds=61)).pk


@pytest.mark.django_db
def test_a_phone_gets_at_most_five_codes_an_hour(sent_codes):
    for minute in range(5):
        start(at=NOW + timedelta(minutes=2 * minute))

    with pytest.raises(VerificationRateLimited, match="several codes"):
        start(at=NOW + timedelta(minutes=12))
    assert start(at=NOW + timedelta(minutes=61)).pk
    assert len(sent_codes) == 6


@pytest.mark.django_db
def test_one_address_gets_at_most_twenty_codes_an_hour_across_phones(sent_codes):
    for n in range(20):
        start(f"+4479111234{n:02d}", at=NOW + timedelta(seconds=n))

    with pytest.raises(VerificationRateLimited, match="this connection"):
        start("+447911123499", at=NOW + timedelta(minutes=1))
    assert start("+447911123499", ip="198.51.100.7", at=NOW + timedelta(minutes=1)).pk


@pytest.mark.django_db
def test_a_missing_token_is_required_with_401():
    with pytest.raises(VerificationRequired) as refused:
        verification_token_redeem(token="", phone=PHONE)

    assert refused.value.status == 401
    assert refused.value.field == "verification_token"


@pytest.mark.django_db
def test_a_token_for_another_phone_is_invalid(sent_codes):
    verification = start()
    token = verification_check(handle=verification.handle, code=sent_codes[0]["code"], now=NOW)

    with pytest.raises(VerificationInvalid, match="different phone") as refused:
        verification_token_redeem(token=token, phone="+447911123000")
    assert refused.value.status == 422


@pytest.mark.django_db
def test_a_token_expires_after_thirty_minutes(sent_codes):
    with time_machine.travel(NOW, tick=False):
        verification = start()
        token = verification_check(handle=verification.handle, code=sent_codes[0]["code"], now=NOW)
    with (
        time_machine.travel(NOW + timedelta(minutes=31), tick=False),
        pytest.raises(VerificationInvalid, match="expired"),
    ):
        verification_token_redeem(token=token, phone=PHONE)


@pytest.mark.django_db
def test_a_tampered_or_foreign_token_is_invalid():
    with pytest.raises(VerificationInvalid, match="not valid"):
        verification_token_redeem(token="not-a-token", phone=PHONE)
    forged = signing.dumps({"v": 1, "p": PHONE}, salt="some.other.salt")
    with pytest.raises(VerificationInvalid, match="not valid"):
        verification_token_redeem(token=forged, phone=PHONE)


@pytest.mark.django_db
def test_old_verifications_are_deleted_once_they_no_longer_count(sent_codes):
    old = start(at=NOW - timedelta(hours=2))
    recent = start(at=NOW - timedelta(minutes=30))

    assert verifications_delete_old(now=NOW) == 1
    assert list(PhoneVerification.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not PhoneVerification.objects.filter(pk=old.pk).exists()


def test_old_verifications_are_purged_hourly_by_beat(settings):
    from bookings.tasks import delete_old_verifications

    entry = settings.CELERY_BEAT_SCHEDULE["bookings.delete-old-verifications"]
    assert entry == {"task": delete_old_verifications.name, "schedule": 3600.0}
