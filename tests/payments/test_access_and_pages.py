"""Who may do what with money, and the pages without Stripe configured."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments import access
from payments.tokens import pay_token_for

pytestmark = pytest.mark.django_db


def test_reception_takes_deposits_and_fees_but_only_managers_refund_or_waive(
    reception, practitioner_user, manager, stranger
):
    assert access.may(reception, access.SEND_PAYMENT_LINK)
    assert access.may(reception, access.CHARGE_FEE)
    assert not access.may(reception, access.REFUND)
    assert not access.may(reception, access.WAIVE)
    assert not access.may(practitioner_user, access.CHARGE_FEE)
    assert access.may(manager, access.REFUND)
    assert access.may(manager, access.WAIVE)
    assert not access.may(stranger, access.SEE_PAYMENTS)


def test_the_pay_page_says_the_link_does_not_work_when_payments_are_off(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    answer = client.get(reverse("payments-pay", args=[pay_token_for(1)]))
    assert answer.status_code == 404


def test_a_forged_pay_link_is_refused(client, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    answer = client.get(reverse("payments-pay", args=["forged"]))
    assert answer.status_code == 404


def test_the_webhook_is_not_there_without_a_secret(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    answer = client.post(
        reverse("payments-stripe-webhook"), data=b"{}", content_type="application/json"
    )
    assert answer.status_code == 404


def test_merging_clients_moves_their_payments_and_card_on_file(reception):
    from django.utils import timezone

    from bookings.services.client_merge import clients_merge
    from payments.models import Payment, StripeCustomer
    from tests import factories

    keep, duplicate = factories.ClientFactory(), factories.ClientFactory()
    appointment = factories.AppointmentFactory(client=duplicate)
    payment = Payment.objects.create(
        appointment=appointment,
        client=duplicate,
        kind=Payment.Kind.DEPOSIT,
        amount=5000,
        currency="gbp",
        status=Payment.Status.SUCCEEDED,
    )
    StripeCustomer.objects.create(
        client=duplicate,
        stripe_customer_id="cus_dup",
        payment_method_id="card_1",
        card_saved_at=timezone.now(),
    )
    clients_merge(actor=reception, keep=keep, duplicate=duplicate, reason="Same person")
    payment.refresh_from_db()
    assert payment.client == keep
    assert StripeCustomer.objects.get(client=keep).stripe_customer_id == "cus_dup"
