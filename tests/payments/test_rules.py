"""The money rules, without Stripe: deposit amounts, the window, what a cancellation does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments import rules
from payments.models import DepositRule, PaymentPolicy

START = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def _policy(**fields) -> PaymentPolicy:
    defaults = {
        "currency": "gbp",
        "deposit_amount": 5000,
        "late_cancel_window_hours": 48,
        "late_cancel_fee": 0,
        "no_show_fee": 0,
    }
    defaults.update(fields)
    return PaymentPolicy(**defaults)


def _terms(**fields):
    return rules.terms_from(_policy(**fields), deposit=5000, accepted_at=START - timedelta(days=9))


def test_a_fixed_deposit_is_taken_as_it_is():
    assert rules.deposit_for(_policy(), price=Decimal("180")) == 5000


def test_a_percentage_deposit_is_rounded_half_up_in_pence():
    assert rules.deposit_for(_policy(deposit_percent=30), price=Decimal("180")) == 5400
    assert rules.deposit_for(_policy(deposit_percent=25), price=Decimal("99.98")) == 2500


def test_a_deposit_is_never_more_than_the_price():
    assert rules.deposit_for(_policy(deposit_amount=90000), price=Decimal("180")) == 18000


@pytest.mark.parametrize(
    ("hours_before", "is_late"), [(48.01, False), (48, False), (47.99, True), (1, True)]
)
def test_the_window_is_the_hours_before_the_start(hours_before, is_late):
    now = START - timedelta(hours=hours_before)
    assert rules.is_late_cancellation(_terms(), start_at=START, now=now) is is_late


def test_a_late_cancellation_keeps_the_deposit_and_owes_the_fee():
    outcome = rules.cancellation_outcome(
        _terms(late_cancel_fee=2000),
        start_at=START,
        now=START - timedelta(hours=5),
        by_clinic=False,
    )
    assert outcome == rules.CancellationOutcome(refund_deposit=False, fee=2000, is_late=True)


def test_an_early_cancellation_refunds_the_deposit():
    outcome = rules.cancellation_outcome(
        _terms(late_cancel_fee=2000), start_at=START, now=START - timedelta(days=3), by_clinic=False
    )
    assert outcome == rules.CancellationOutcome(refund_deposit=True, fee=0, is_late=False)


def test_the_clinic_cancelling_always_refunds_in_full_whatever_the_policy():
    terms = _terms(deposit_on_late_cancel=DepositRule.KEEP, late_cancel_fee=2000)
    outcome = rules.cancellation_outcome(
        terms, start_at=START, now=START - timedelta(hours=1), by_clinic=True
    )
    assert outcome == rules.CancellationOutcome(refund_deposit=True, fee=0, is_late=False)


def test_a_no_show_keeps_the_deposit_and_owes_the_no_show_fee():
    assert rules.no_show_outcome(_terms(no_show_fee=3000)) == rules.CancellationOutcome(
        refund_deposit=False, fee=3000, is_late=True
    )


def test_the_written_terms_name_the_amounts_and_the_window():
    wording = rules.wording_for(
        _policy(late_cancel_fee=2000, no_show_fee=3000, keeps_card_on_file=True), deposit=5000
    )
    assert "£50" in wording
    assert "48 hours" in wording
    assert "£20" in wording
    assert "£30" in wording
    assert "card is kept on file" in wording
    assert "clinic cancels" in wording


def test_a_clinic_wording_replaces_the_generated_one():
    assert rules.wording_for(_policy(wording="Our terms."), deposit=5000) == "Our terms."


@pytest.mark.parametrize(
    ("paid", "refunded", "asked", "allowed"),
    [(5000, 0, 5000, True), (5000, 1000, 4001, False), (5000, 0, 0, False), (5000, 0, -1, False)],
)
def test_a_refund_is_positive_and_at_most_what_is_left(paid, refunded, asked, allowed):
    assert rules.refundable(paid=paid, refunded=refunded, asked=asked) is allowed


def test_money_is_shown_in_the_currency():
    assert rules.format_money(5000, "gbp") == "£50"
    assert rules.format_money(5050, "eur") == "€50.50"
    assert rules.format_money(100, "sek") == "1 SEK"
