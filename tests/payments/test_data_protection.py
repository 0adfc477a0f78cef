"""A client's export and erasure cover payments: the export lists amounts, dates, statuses and
the card's last four digits; erasure keeps the money rows for the accounts but detaches them,
replaces staff's free-text reasons, and deletes the Stripe customer (after commit)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings.services.data_protection import client_data_export, client_erase
from payments import tasks
from payments.models import Payment, PaymentAuditEntry, Refund, StripeCustomer
from tests import factories

pytestmark = pytest.mark.django_db

REASON = "Client asked by email"


@pytest.fixture
def paying_client(client_person, peel, location, manager):
    appointment = factories.AppointmentFactory(
        client=client_person,
        service=peel,
        location=location,
        start_at=timezone.now() - timezone.timedelta(days=3),
        status="completed",
    )
    payment = Payment.objects.create(
        appointment=appointment,
        client=client_person,
        kind=Payment.Kind.DEPOSIT,
        amount=5000,
        currency="gbp",
        status=Payment.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        stripe_payment_intent_id="pi_erase_me",
    )
    Refund.objects.create(
        payment=payment, amount=1000, reason="Olive was unhappy with her skin", status="succeeded"
    )
    PaymentAuditEntry.objects.create(
        payment=payment, action="refund", actor_label="staff:boss", reason="Olive unhappy"
    )
    StripeCustomer.objects.create(
        client=client_person,
        stripe_customer_id="cus_erase_me",
        payment_method_id="card_erase_me",
        card_brand="visa",
        card_last4="4242",
        card_consent_wording="Keep my card for fees",
        card_saved_at=timezone.now(),
    )
    return client_person, payment


def test_the_export_lists_payments_refunds_and_the_cards_last_four(manager, paying_client):
    client, payment = paying_client
    export = client_data_export(actor=manager, client=client, reason=REASON)
    [row] = export["payments"]
    assert (row["amount_minor_units"], row["currency"], row["status"]) == (5000, "gbp", "Paid")
    assert row["paid_at"] is not None
    assert row["refunds"][0]["amount_minor_units"] == 1000
    assert export["card_on_file"] == {
        "brand": "visa",
        "last4": "4242",
        "saved_at": export["card_on_file"]["saved_at"],
        "consent_wording": "Keep my card for fees",
    }
    assert "pi_erase_me" not in str(export)
    assert "cus_erase_me" not in str(export)


def test_erasure_keeps_the_money_rows_but_not_the_person(
    manager, paying_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.delete_stripe_customer, "delay", lambda *ids: queued.append(ids))
    client, payment = paying_client
    with django_capture_on_commit_callbacks(execute=True):
        client_erase(actor=manager, client=client, reason=REASON)

    payment.refresh_from_db()
    assert (payment.amount, payment.status, payment.stripe_payment_intent_id) == (
        5000,
        "succeeded",
        "pi_erase_me",
    )
    assert payment.client is None
    assert "Olive" not in Refund.objects.get().reason
    assert "Olive" not in PaymentAuditEntry.objects.get().reason
    assert not StripeCustomer.objects.exists()
    assert queued == [("cus_erase_me", "card_erase_me")]


def test_an_erasure_that_fails_later_deletes_nothing_at_stripe(
    manager, paying_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from bookings.models import PhoneVerification

    settings.STRIPE_SECRET_KEY = "sk_test_x"
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.delete_stripe_customer, "delay", lambda *ids: queued.append(ids))

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    # The step after the signal fails: the whole erasure rolls back, the card stays.
    monkeypatch.setattr(PhoneVerification.objects, "filter", broken)
    client, _ = paying_client
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        client_erase(actor=manager, client=client, reason=REASON)
    assert queued == []
    assert StripeCustomer.objects.filter(client=client).exists()
    assert Payment.objects.get().client == client


def test_with_payments_off_the_row_goes_and_nothing_is_queued(
    manager, paying_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.STRIPE_SECRET_KEY = ""
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.delete_stripe_customer, "delay", lambda *ids: queued.append(ids))
    client, _ = paying_client
    with django_capture_on_commit_callbacks(execute=True):
        client_erase(actor=manager, client=client, reason=REASON)
    assert queued == []
    assert not StripeCustomer.objects.exists()
