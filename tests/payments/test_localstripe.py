"""Deposits, refunds and fees against localstripe (a stateful fake Stripe server): the real
``stripe`` library, real HTTP, webhooks signed as Stripe signs them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment
from bookings.services import appointment_cancel, appointment_hold
from bookings.services.transitions import holds_release_expired
from payments.models import Payment, PaymentTerms, Refund, StripeCustomer, StripeEvent
from payments.services.deposits import (
    deposit_pay_with_card,
    deposit_start,
    deposits_abandon_expired,
    payment_sync,
)
from payments.services.fees import fee_charge, fee_waive
from payments.services.reconcile import payments_reconcile
from payments.services.refunds import refund_issue
from payments.tasks import send_refund
from reminders.models import Message
from tests.stripe_fake import signed_event

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SCA_CARD = "4000002500003155"


def _start_in(days: int, location) -> datetime:
    local = (timezone.now() + timedelta(days=days)).astimezone(location.zone)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)


def start_inside_late_window(location) -> datetime:
    """A start 26 to 46 hours away, whatever the time of day now: inside the policy's 48-hour
    late-cancellation window and outside the 24-hour online cutoff (10:00 two days on is 56
    hours away at two in the morning)."""
    earliest = (timezone.now() + timedelta(hours=26)).astimezone(location.zone)
    for day in range(3):
        for hour in (10, 12, 14):
            start = (earliest + timedelta(days=day)).replace(
                hour=hour, minute=0, second=0, microsecond=0
            )
            if start >= earliest:
                return start
    raise AssertionError("unreachable: a 10:00, 12:00 or 14:00 comes within 20 hours")


@pytest.fixture
def paid_hold(localstripe, peel, peel_policy, location, client_person):
    """A hold on the peel paid with a card that needs no authentication."""

    def _make(days: int = 7, card: str = "4242424242424242", *, late: bool = False):
        start = start_inside_late_window(location) if late else _start_in(days, location)
        hold = appointment_hold(service=peel, location=location, start_at=start, phone_proven=True)
        payment = deposit_start(hold=hold, client=client_person)
        state = deposit_pay_with_card(payment=payment, card_token=localstripe.card_token(card))
        payment.refresh_from_db()
        return hold, payment, state

    return _make


def _post_event(client, *, event_type: str, obj: dict, event_id: str):
    body, signature = signed_event(event_type=event_type, obj=obj, event_id=event_id)
    return client.post(
        reverse("payments-stripe-webhook"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def test_a_paid_deposit_books_the_hold_and_a_replayed_webhook_changes_nothing(
    paid_hold, localstripe, client
):
    hold, payment, state = paid_hold()
    assert state.status == "succeeded"
    assert payment.status == Payment.Status.SUCCEEDED
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.BOOKED
    assert hold.client_id == payment.client_id
    terms = PaymentTerms.objects.get(appointment=hold)
    assert terms.deposit_amount == 5000
    assert "£50" in terms.wording
    intent = localstripe.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
    assert intent["amount"] == 5000
    assert intent["metadata"]["payment_id"] == str(payment.pk)
    customer = StripeCustomer.objects.get(client=payment.client)
    assert customer.has_card_on_file
    assert customer.card_last4 == "4242"
    assert customer.card_consent_wording == terms.wording
    sources = localstripe.get(f"/v1/customers/{customer.stripe_customer_id}/sources")
    assert [card["id"] for card in sources["data"]] == [customer.payment_method_id]

    for _ in range(2):
        answer = _post_event(
            client, event_type="payment_intent.succeeded", obj=intent, event_id="evt_paid_1"
        )
        assert answer.status_code == 200
    # An older event arriving after the success: the row follows Stripe's current state.
    answer = _post_event(
        client,
        event_type="payment_intent.payment_failed",
        obj={**intent, "status": "requires_payment_method"},
        event_id="evt_failed_0",
    )
    assert answer.status_code == 200
    assert StripeEvent.objects.count() == 2
    payment.refresh_from_db()
    hold.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert hold.status == Appointment.Status.BOOKED
    assert Appointment.objects.filter(client=payment.client).count() == 1


def test_the_webhook_books_when_the_client_never_comes_back(
    localstripe, peel, peel_policy, location, client_person, client
):
    hold = appointment_hold(
        service=peel, location=location, start_at=_start_in(5, location), phone_proven=True
    )
    payment = deposit_start(hold=hold, client=client_person)
    # The card went to Stripe and the browser closed before our page answered.
    import stripe

    stripe_client = stripe.StripeClient(localstripe_key(), base_addresses={"api": localstripe.url})
    card = stripe_client.v1.customers.payment_sources.create(
        StripeCustomer.objects.get(client=client_person).stripe_customer_id,
        params={"source": localstripe.card_token()},
    )
    stripe_client.v1.payment_intents.update(
        payment.stripe_payment_intent_id, params={"payment_method": card.id}
    )
    intent = stripe_client.v1.payment_intents.confirm(payment.stripe_payment_intent_id)
    answer = _post_event(
        client,
        event_type="payment_intent.succeeded",
        obj=intent.to_dict(),
        event_id="evt_late_return",
    )
    assert answer.status_code == 200
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.BOOKED
    # The client's return afterwards is a no-op that shows the booking.
    assert payment_sync(intent_id=payment.stripe_payment_intent_id).status == "succeeded"


def localstripe_key() -> str:
    from tests.stripe_fake import SECRET_KEY

    return SECRET_KEY


def test_a_webhook_without_a_valid_signature_is_refused(localstripe, client):
    body, signature = signed_event(
        event_type="payment_intent.succeeded",
        obj={"id": "pi_x"},
        event_id="evt_forged",
        secret="whsec_wrong",
    )
    answer = client.post(
        reverse("payments-stripe-webhook"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert answer.status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_abandoned_payment_releases_the_hold_and_cancels_the_intent(
    localstripe, peel, peel_policy, location, client_person
):
    hold = appointment_hold(
        service=peel, location=location, start_at=_start_in(7, location), phone_proven=True
    )
    payment = deposit_start(hold=hold, client=client_person)
    hold.refresh_from_db()
    # Paying extends the hold once, and boundedly.
    assert hold.hold_expires_at > timezone.now() + timedelta(minutes=14)
    assert hold.hold_expires_at <= timezone.now() + timedelta(minutes=15)

    later = timezone.now() + timedelta(minutes=16)
    assert holds_release_expired(now=later) == 1
    assert deposits_abandon_expired(now=later) == 1
    hold.refresh_from_db()
    payment.refresh_from_db()
    assert hold.status == Appointment.Status.CANCELLED
    assert payment.status == Payment.Status.CANCELED
    intent = localstripe.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
    assert intent["status"] == "canceled"
    # The time is free again for the next client.
    again = appointment_hold(
        service=peel, location=location, start_at=hold.start_at, phone_proven=True
    )
    assert again.status == Appointment.Status.HELD


def test_3d_secure_on_the_deposit_books_after_the_client_authenticates(
    paid_hold, localstripe, client
):
    hold, payment, state = paid_hold(card=SCA_CARD)
    assert state.status == "requires_action"
    assert payment.status == Payment.Status.REQUIRES_ACTION
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.HELD
    localstripe.authenticate(state.id, state.client_secret, success=True)
    from payments.tokens import pay_token_for

    answer = client.get(reverse("payments-pay-done", args=[pay_token_for(payment.pk)]))
    assert answer.status_code == 302
    hold.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert hold.status == Appointment.Status.BOOKED


def test_a_manager_refunds_part_of_a_deposit_and_reception_may_not(
    paid_hold, localstripe, manager, reception
):
    from clinic.errors import PermissionDenied, ValidationFailed

    _, payment, _ = paid_hold()
    with pytest.raises(PermissionDenied):
        refund_issue(payment=payment, amount=1000, reason="Goodwill", actor=reception)
    refund = refund_issue(payment=payment, amount=1000, reason="Goodwill", actor=manager)
    assert refund.status == Refund.Status.SUCCEEDED
    assert localstripe.get(f"/v1/refunds/{refund.stripe_refund_id}")["amount"] == 1000
    with pytest.raises(ValidationFailed):
        refund_issue(payment=payment, amount=4001, reason="Too much", actor=manager)
    assert payment.audit.filter(action="refund", actor=manager).count() == 1


def test_a_clinic_cancellation_refunds_the_deposit_in_full(
    paid_hold, localstripe, reception, django_capture_on_commit_callbacks
):
    hold, payment, _ = paid_hold(days=1)  # inside the window: the clinic refunds anyway
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment_cancel(appointment=hold, actor=reception, reason="Practitioner ill")
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == 5000
    assert refund.status == Refund.Status.PENDING
    assert callbacks, "the refund is sent after commit"
    send_refund(refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED


def test_a_late_cancellation_keeps_the_deposit_and_charges_the_fee_to_the_card_on_file(
    paid_hold, localstripe, reception, manager
):
    hold, deposit, _ = paid_hold(late=True)  # inside 48 h, outside the 24 h online cutoff
    appointment_cancel(appointment=hold, actor_label="client")
    assert not Refund.objects.exists()
    fee = fee_charge(appointment=hold, actor=reception)
    assert fee.kind == Payment.Kind.LATE_CANCEL_FEE
    assert fee.amount == 2000
    assert fee.status == Payment.Status.SUCCEEDED
    # A second click finds the same charge.
    assert fee_charge(appointment=hold, actor=reception).pk == fee.pk
    intent = localstripe.get(f"/v1/payment_intents/{fee.stripe_payment_intent_id}")
    assert intent["amount"] == 2000
    assert intent["status"] == "succeeded"


def test_an_early_cancellation_by_the_client_refunds_the_deposit(
    paid_hold, localstripe, django_capture_on_commit_callbacks
):
    hold, deposit, _ = paid_hold(days=7)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment_cancel(appointment=hold, actor_label="client")
    assert len([c for c in callbacks if "send" in c.__qualname__]) == 1
    refund = Refund.objects.get(payment=deposit)
    send_refund(refund.pk)
    refund.refresh_from_db()
    assert refund.amount == 5000
    assert refund.status == Refund.Status.SUCCEEDED


def test_a_no_show_fee_is_charged_off_session(paid_hold, localstripe, reception):
    hold, _, _ = paid_hold(days=2)
    Appointment.objects.filter(pk=hold.pk).update(status=Appointment.Status.NO_SHOW)
    hold.refresh_from_db()
    fee = fee_charge(appointment=hold, actor=reception)
    assert fee.kind == Payment.Kind.NO_SHOW_FEE
    assert fee.amount == 3000
    assert fee.off_session
    assert fee.status == Payment.Status.SUCCEEDED


def test_an_off_session_fee_that_needs_authentication_texts_the_client_a_link(
    paid_hold, localstripe, reception, client
):
    hold, deposit, state = paid_hold(days=2, card=SCA_CARD)
    localstripe.authenticate(state.id, state.client_secret, success=True)
    payment_sync(intent_id=state.id)
    Appointment.objects.filter(pk=hold.pk).update(status=Appointment.Status.NO_SHOW)
    hold.refresh_from_db()
    fee = fee_charge(appointment=hold, actor=reception)
    assert fee.status == Payment.Status.REQUIRES_ACTION
    link = Message.objects.get(appointment=hold, body__contains="/book/pay/")
    assert "£30" in link.body
    assert "peel" not in link.body.lower()
    # A replayed event does not text again.
    payment_sync(intent_id=fee.stripe_payment_intent_id)
    assert Message.objects.filter(appointment=hold, body__contains="/book/pay/").count() == 1
    # The link asks the client to confirm with their bank, then the fee is paid.
    path = link.body[link.body.index("/book/pay/") :].split()[0]
    page = client.get(path)
    assert "Confirm £30 with my bank" in page.text
    intent = localstripe.get(f"/v1/payment_intents/{fee.stripe_payment_intent_id}")
    localstripe.authenticate(intent["id"], intent["client_secret"], success=True)
    done = client.get(path + "done")
    assert "We have received your payment" in done.text
    fee.refresh_from_db()
    assert fee.status == Payment.Status.SUCCEEDED


def test_a_manager_waives_a_no_show_fee_with_a_reason(paid_hold, localstripe, manager, reception):
    from clinic.errors import PermissionDenied, ValidationFailed

    hold, _, _ = paid_hold(days=2)
    Appointment.objects.filter(pk=hold.pk).update(status=Appointment.Status.NO_SHOW)
    hold.refresh_from_db()
    with pytest.raises(PermissionDenied):
        fee_waive(appointment=hold, actor=reception, reason="Bereavement")
    with pytest.raises(ValidationFailed):
        fee_waive(appointment=hold, actor=manager, reason=" ")
    waived = fee_waive(appointment=hold, actor=manager, reason="Bereavement")
    assert waived.status == Payment.Status.WAIVED
    assert waived.waived_by == manager
    assert waived.audit.get().reason == "Bereavement"


def test_reconciliation_applies_a_missed_webhook_and_reports_what_it_cannot_explain(
    paid_hold, localstripe
):
    hold, payment, _ = paid_hold()
    assert payments_reconcile() == 0
    Payment.objects.filter(pk=payment.pk).update(amount=4000)
    assert payments_reconcile() == 1
    assert payment.mismatches.get().kind == "amount"
    assert payments_reconcile() == 0  # reported once


def test_the_desk_panel_shows_the_deposit_and_charges_a_no_show_fee_in_one_click(
    paid_hold, localstripe, client, reception, manager
):
    hold, deposit, _ = paid_hold(days=2)
    Appointment.objects.filter(pk=hold.pk).update(status=Appointment.Status.NO_SHOW)
    client.force_login(reception)
    panel = client.get(reverse("staff-appointment", args=[hold.pk]), HTTP_HX_REQUEST="true")
    assert "Deposit £50: Paid" in panel.text
    assert "Charge £30 fee to the card on file" in panel.text
    assert "Refund…" not in panel.text  # reception does not refund
    answer = client.post(reverse("staff-payment-fee", args=[hold.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "No-show fee £30: Paid" in answer.text
    assert "Charge £30" not in answer.text
    refused = client.post(
        reverse("staff-payment-refund", args=[hold.pk]),
        {"payment": str(deposit.pk), "amount": "10", "reason": "Goodwill"},
    )
    assert refused.status_code == 403
    client.force_login(manager)
    answer = client.post(
        reverse("staff-payment-refund", args=[hold.pk]),
        {"payment": str(deposit.pk), "amount": "10.50", "reason": "Goodwill"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    assert "(£10.50 refunded)" in answer.text
    assert Refund.objects.get(payment=deposit).status == Refund.Status.SUCCEEDED


def test_reception_texts_a_deposit_link_for_a_phone_booking(
    localstripe, peel, peel_policy, location, client_person, client, reception
):
    from bookings.services import appointment_book

    booked = appointment_book(
        client=client_person,
        service=peel,
        location=location,
        start_at=_start_in(9, location),
        actor=reception,
        channel=Appointment.Channel.STAFF,
    )
    client.force_login(reception)
    answer = client.post(reverse("staff-payment-link", args=[booked.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    payment = Payment.objects.get(appointment=booked)
    assert payment.kind == Payment.Kind.DEPOSIT
    assert payment.amount == 5000
    text = Message.objects.get(appointment=booked, body__contains="/book/pay/")
    assert text.body.startswith(f"Hi {client_person.first_name}")
    assert "Glow" not in text.body
    assert payment.audit.get(action="link_sent").actor == reception


def test_a_paid_hold_that_cannot_be_booked_is_released_and_refunded_in_full(
    localstripe, peel, peel_policy, location, client_person, django_capture_on_commit_callbacks
):
    hold = appointment_hold(
        service=peel, location=location, start_at=_start_in(6, location), phone_proven=True
    )
    payment = deposit_start(hold=hold, client=client_person)
    # Before the money arrives the service starts needing a consultation the client lacks.
    type(peel).objects.filter(pk=peel.pk).update(requires_consultation=True)
    with django_capture_on_commit_callbacks(execute=False):
        deposit_pay_with_card(payment=payment, card_token=localstripe.card_token())
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.CANCELLED
    assert "consultation_required" in hold.cancellation_reason
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == 5000
    send_refund(refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED


def test_a_client_who_may_not_have_the_treatment_is_not_asked_to_pay(
    localstripe, peel, peel_policy, location, client_person
):
    from payments.services.deposits import checkout_step

    type(peel).objects.filter(pk=peel.pk).update(requires_consultation=True)
    peel.refresh_from_db()
    hold = appointment_hold(
        service=peel, location=location, start_at=_start_in(6, location), phone_proven=True
    )
    assert checkout_step(hold=hold, client=client_person) is None
    assert not Payment.objects.exists()


def test_a_declined_card_says_so_and_the_hold_stays_for_another_card(
    localstripe, peel, peel_policy, location, client_person, client
):
    from payments.tokens import pay_token_for

    hold = appointment_hold(
        service=peel, location=location, start_at=_start_in(8, location), phone_proven=True
    )
    payment = deposit_start(hold=hold, client=client_person)
    url = reverse("payments-pay-card", args=[pay_token_for(payment.pk)])
    declined = client.post(url, {"card_token": localstripe.card_token("4000000000000002")})
    assert declined.status_code == 402
    assert declined.json()["error"] == "payment_failed"
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.HELD
    paid = client.post(url, {"card_token": localstripe.card_token()})
    assert paid.json()["status"] == "succeeded"
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.BOOKED


def test_a_card_is_not_kept_when_the_policy_does_not_keep_one(
    paid_hold, localstripe, peel_policy, reception
):
    peel_policy.keeps_card_on_file = False
    peel_policy.save()
    hold, payment, state = paid_hold(days=9)
    assert state.status == "succeeded"
    customer = StripeCustomer.objects.get(client=payment.client)
    assert not customer.has_card_on_file
    sources = localstripe.get(f"/v1/customers/{customer.stripe_customer_id}/sources")
    assert sources["data"] == []


def test_stripe_unreachable_is_a_problem_page_not_a_server_error(
    localstripe, peel, peel_policy, location, client_person, settings
):
    from clinic.errors import ValidationFailed
    from payments.services.deposits import checkout_step
    from tests.stripe_fake import free_port

    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.STRIPE_TIMEOUT_SECONDS = 1.0
    hold = appointment_hold(
        service=peel, location=location, start_at=_start_in(6, location), phone_proven=True
    )
    with pytest.raises(ValidationFailed) as refused:
        checkout_step(hold=hold, client=client_person)
    assert refused.value.field == "payment"
    hold.refresh_from_db()
    assert hold.status == Appointment.Status.HELD


def test_the_staff_api_charges_the_no_show_fee_and_refunds_part_of_the_deposit(
    paid_hold, localstripe, reception, manager
):
    from django.test import Client as HttpClient

    hold, deposit, _ = paid_hold(days=2)
    Appointment.objects.filter(pk=hold.pk).update(status=Appointment.Status.NO_SHOW)
    desk, boss = HttpClient(), HttpClient()
    desk.force_login(reception)
    boss.force_login(manager)
    base = f"/api/v1/staff/appointments/{hold.pk}/payments"

    charged = desk.post(f"{base}/fee")
    assert charged.status_code == 201, charged.content
    fee = charged.json()
    assert (fee["kind"], fee["amount"], fee["status"]) == ("no_show_fee", 3000, "succeeded")
    assert fee["off_session"]
    # A second press finds the same charge: charged once only.
    assert desk.post(f"{base}/fee").json()["id"] == fee["id"]
    assert Payment.objects.filter(appointment=hold, kind=Payment.Kind.NO_SHOW_FEE).count() == 1

    refunded = boss.post(
        f"{base}/refunds",
        {"payment_id": deposit.pk, "amount": 1500, "reason": "Goodwill"},
        content_type="application/json",
    )
    assert refunded.status_code == 201, refunded.content
    refund = refunded.json()
    assert (refund["amount"], refund["status"]) == (1500, "succeeded")
    assert localstripe.get(f"/v1/refunds/{Refund.objects.get().stripe_refund_id}")["amount"] == 1500
    listed = {row["kind"]: row for row in desk.get(base).json()}
    assert listed["deposit"]["amount_refunded"] == 1500
    assert listed["no_show_fee"]["amount"] == 3000


def test_erasing_a_client_deletes_their_card_and_customer_at_stripe(
    paid_hold, localstripe, manager, client_person, monkeypatch, django_capture_on_commit_callbacks
):
    import requests

    from bookings.services.data_protection import client_erase
    from payments import tasks

    monkeypatch.setattr(
        tasks.delete_stripe_customer, "delay", lambda *ids: tasks.delete_stripe_customer(*ids)
    )
    hold, deposit, _ = paid_hold()
    customer = StripeCustomer.objects.get(client=client_person)
    assert customer.has_card_on_file
    before = localstripe.get(f"/v1/customers/{customer.stripe_customer_id}")
    assert before["id"] == customer.stripe_customer_id

    with django_capture_on_commit_callbacks(execute=True):
        client_erase(actor=manager, client=client_person, reason="Client asked by email")

    assert not StripeCustomer.objects.exists()
    with pytest.raises(requests.HTTPError):
        localstripe.get(f"/v1/customers/{customer.stripe_customer_id}")
    deposit.refresh_from_db()
    assert deposit.client is None
    assert deposit.amount == 5000  # the accounting row stays
