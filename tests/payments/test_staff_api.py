"""The staff JSON API for an appointment's money: the same services and roles as the desk
panel (``payments/access.py``), amounts in minor units. Stripe calls are in
``test_localstripe.py``; here, what is refused before any call and the list."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from payments.models import Payment, Refund
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1/staff/appointments"


def _as(user) -> HttpClient:
    browser = HttpClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def paid(peel, location, client_person):
    appointment = factories.AppointmentFactory(
        client=client_person, service=peel, location=location
    )
    payment = Payment.objects.create(
        appointment=appointment,
        client=client_person,
        kind=Payment.Kind.DEPOSIT,
        amount=5000,
        currency="gbp",
        status=Payment.Status.SUCCEEDED,
        stripe_payment_intent_id="pi_test_paid",
    )
    Refund.objects.create(
        payment=payment, amount=1000, reason="Goodwill", status=Refund.Status.SUCCEEDED
    )
    return appointment, payment


def test_staff_list_an_appointments_payments_with_their_refunds_in_minor_units(reception, paid):
    appointment, payment = paid
    answer = _as(reception).get(f"{API}/{appointment.pk}/payments")
    assert answer.status_code == 200
    [row] = answer.json()
    assert row["id"] == payment.pk
    assert (row["kind"], row["amount"], row["currency"]) == ("deposit", 5000, "gbp")
    assert (row["status"], row["amount_refunded"]) == ("succeeded", 1000)
    assert row["refunds"][0]["amount"] == 1000
    assert row["refunds"][0]["reason"] == "Goodwill"


def test_reception_may_not_refund_or_waive_through_the_api(reception, paid):
    appointment, payment = paid
    browser = _as(reception)
    refused = browser.post(
        f"{API}/{appointment.pk}/payments/refunds",
        {"payment_id": payment.pk, "amount": 500, "reason": "Goodwill"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    waived = browser.post(
        f"{API}/{appointment.pk}/payments/waive",
        {"reason": "Bereavement"},
        content_type="application/json",
    )
    assert waived.status_code == 403
    assert Refund.objects.count() == 1


def test_a_refund_of_another_appointments_payment_names_the_field(manager, paid, peel, location):
    _, payment = paid
    other = factories.AppointmentFactory(service=peel, location=location)
    answer = _as(manager).post(
        f"{API}/{other.pk}/payments/refunds",
        {"payment_id": payment.pk, "reason": "Goodwill"},
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "payment_id"


@pytest.mark.parametrize(
    "body",
    [
        {"payment_id": 1, "amount": 0, "reason": "x"},
        {"payment_id": 1, "amount": "lots", "reason": "x"},
        {"payment_id": 1},
    ],
)
def test_a_bad_refund_body_is_a_422_and_refunds_nothing(manager, paid, body):
    appointment, _ = paid
    answer = _as(manager).post(
        f"{API}/{appointment.pk}/payments/refunds", body, content_type="application/json"
    )
    assert answer.status_code == 422
    assert Refund.objects.count() == 1


def test_a_refund_without_a_reason_is_refused_naming_it(manager, paid):
    appointment, payment = paid
    answer = _as(manager).post(
        f"{API}/{appointment.pk}/payments/refunds",
        {"payment_id": payment.pk, "reason": "  "},
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "reason"
    assert Refund.objects.count() == 1


def test_nothing_to_waive_or_charge_is_a_409(manager, paid):
    appointment, _ = paid  # no terms: no fee is owed
    browser = _as(manager)
    waived = browser.post(
        f"{API}/{appointment.pk}/payments/waive",
        {"reason": "Bereavement"},
        content_type="application/json",
    )
    assert waived.status_code == 409
    charged = browser.post(f"{API}/{appointment.pk}/payments/fee")
    assert charged.status_code == 409


def test_a_deposit_link_for_a_service_without_a_deposit_is_a_409(reception, location):
    appointment = factories.AppointmentFactory(location=location)
    answer = _as(reception).post(f"{API}/{appointment.pk}/payments/deposit-link")
    assert answer.status_code == 409
    assert "no deposit" in answer.json()["message"]
    assert not Payment.objects.exists()
