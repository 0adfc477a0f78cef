"""The webhook and the client's return confirm the same payment at the same moment: one
booking, one succeeded row, whichever wins (the row lock serialises them)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bookings.models import Appointment
from bookings.services import appointment_hold
from payments import gateway
from payments.models import Payment
from payments.services.deposits import deposit_start, payment_apply_state

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_webhook_and_a_return_racing_book_once(
    localstripe, peel, peel_policy, location, client_person
):
    start = (timezone.now() + timedelta(days=5)).astimezone(location.zone)
    hold = appointment_hold(
        service=peel,
        location=location,
        start_at=start.replace(hour=10, minute=0, second=0, microsecond=0),
        phone_proven=True,
    )
    payment = deposit_start(hold=hold, client=client_person)
    succeeded = gateway.IntentState(
        id=payment.stripe_payment_intent_id,
        status="succeeded",
        amount=payment.amount,
        currency=payment.currency,
        client_secret="",
        payment_method="card_x",
        error_code="",
        metadata={},
    )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def confirm() -> None:
        try:
            barrier.wait(timeout=10)
            payment_apply_state(payment_id=payment.pk, state=succeeded)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.BOOKED
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert Appointment.objects.filter(client=client_person).count() == 1
    assert hold.events.filter(kind="booked").count() == 1
