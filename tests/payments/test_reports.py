"""The money report: deposits, fees and refunds by month, and the no-show rate of visits with
and without deposit terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from bookings.models import Appointment
from clinic.errors import PermissionDenied
from payments import rules
from payments.models import Payment, PaymentPolicy, Refund
from tests import factories
from workspace.selectors.reports import money_by_month, report_range

pytestmark = pytest.mark.django_db

MARCH = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _visit(location, *, start_at, status, with_terms: bool, deposit: int = 0):
    appointment = factories.AppointmentFactory(location=location, start_at=start_at, status=status)
    if with_terms:
        terms = rules.terms_from(
            PaymentPolicy(currency="gbp", deposit_amount=deposit),
            deposit=deposit,
            accepted_at=start_at,
        )
        terms.appointment = appointment
        terms.save()
    return appointment


def _paid(appointment, *, kind, amount, at):
    return Payment.objects.create(
        appointment=appointment,
        client=appointment.client,
        kind=kind,
        amount=amount,
        currency="gbp",
        status=Payment.Status.SUCCEEDED,
        succeeded_at=at,
    )


def test_money_and_no_shows_are_counted_by_month(location, manager, reception):
    old = _visit(location, start_at=MARCH - timedelta(days=30), status="no_show", with_terms=False)
    _visit(location, start_at=MARCH - timedelta(days=31), status="completed", with_terms=False)
    paid = _visit(location, start_at=MARCH, status="completed", with_terms=True, deposit=5000)
    missed = _visit(location, start_at=MARCH + timedelta(days=1), status="no_show", with_terms=True)
    for appointment in (paid, missed):
        _paid(appointment, kind=Payment.Kind.DEPOSIT, amount=5000, at=MARCH - timedelta(days=5))
    fee = _paid(missed, kind=Payment.Kind.NO_SHOW_FEE, amount=3000, at=MARCH + timedelta(days=1))
    refund = Refund.objects.create(
        payment=fee, amount=1000, reason="Goodwill", status=Refund.Status.SUCCEEDED
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=MARCH + timedelta(days=2))
    assert old.status == Appointment.Status.NO_SHOW

    period = report_range(location=location, start_on=date(2026, 2, 1), end_on=date(2026, 4, 1))
    with pytest.raises(PermissionDenied):
        money_by_month(actor=reception, location=location, period=period)
    rows = {
        row["month_on"]: row
        for row in money_by_month(actor=manager, location=location, period=period)
    }
    february, march = rows[date(2026, 2, 1)], rows[date(2026, 3, 1)]
    assert february["no_show_rate_without_deposit"] == 0.5
    assert february["due_with_deposit"] == 0
    assert march["deposits"] == 10000
    assert march["fees"] == 3000
    assert march["refunds"] == 1000
    assert march["no_show_rate_with_deposit"] == 0.5


def test_the_reports_page_shows_the_money_table(client, manager, location):
    client.force_login(manager)
    answer = client.get(reverse("staff-reports"))
    assert answer.status_code == 200
    assert "Deposits, fees and refunds by month" in answer.text
