"""What a cancellation does to a paid deposit (``payments.receivers`` calls this inside the
cancelling transaction): refund it when the terms say so, the refund sent after commit."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings.models import Appointment, Client
from payments import rules
from payments.models import Payment, PaymentAuditEntry, PaymentTerms, Refund, StripeCustomer


def deposit_settle_after_cancellation(
    *, appointment: Appointment, actor_label: str
) -> Refund | None:
    """A cancellation by the clinic (staff or the system) refunds the deposit in full; one by the client follows the
    window in the booking's terms. Returns the pending refund row, or None."""
    terms = PaymentTerms.objects.filter(appointment=appointment).first()
    deposit = Payment.objects.filter(
        appointment=appointment, kind=Payment.Kind.DEPOSIT, status=Payment.Status.SUCCEEDED
    ).first()
    if terms is None or deposit is None:
        return None
    # Anything but the client's own cancellation (staff, or the system releasing a booking it
    # could not keep) is the clinic's: the deposit goes back in full.
    by_clinic = actor_label != "client"
    outcome = rules.cancellation_outcome(
        terms, start_at=appointment.start_at, now=timezone.now(), by_clinic=by_clinic
    )
    left = deposit.amount - deposit.amount_refunded
    if not outcome.refund_deposit or left <= 0:
        return None
    reason = (
        "Cancelled by the clinic (or the booking could not be kept): deposit refunded in full."
        if by_clinic
        else "Cancelled outside the late-cancellation window: deposit refunded."
    )
    refund = Refund.objects.create(payment=deposit, amount=left, reason=reason)
    PaymentAuditEntry.objects.create(
        payment=deposit, action="refund", actor_label="system", reason=reason, amount=left
    )

    def _send() -> None:
        from payments.tasks import send_refund

        send_refund.delay(refund.pk)

    transaction.on_commit(_send)
    return refund


def cancellation_notice(*, appointment: Appointment) -> str:
    """``bookings.checkout`` notice: what cancelling now costs, for the manage page."""
    terms = PaymentTerms.objects.filter(appointment=appointment).first()
    paid = Payment.objects.filter(
        appointment=appointment, kind=Payment.Kind.DEPOSIT, status=Payment.Status.SUCCEEDED
    ).exists()
    if terms is None:
        return ""
    outcome = rules.cancellation_outcome(
        terms, start_at=appointment.start_at, now=timezone.now(), by_clinic=False
    )
    money = rules.format_money
    if not outcome.is_late:
        return (
            f"Your deposit of {money(terms.deposit_amount, terms.currency)} will be refunded."
            if paid and outcome.refund_deposit
            else ""
        )
    parts = []
    if paid and not outcome.refund_deposit:
        parts.append(f"your deposit of {money(terms.deposit_amount, terms.currency)} is kept")
    if outcome.fee:
        parts.append(
            f"a late-cancellation fee of {money(outcome.fee, terms.currency)} is charged to your card"
        )
    if not parts:
        return ""
    return (
        f"This is less than {terms.late_cancel_window_hours} hours before your visit: if you "
        f"cancel now, {' and '.join(parts)}."
    )


def payments_move_to_client(*, keep: Client, duplicate: Client) -> None:
    """Staff merged ``duplicate`` into ``keep``: their payments follow, and so does their
    Stripe customer (with the card on file) unless ``keep`` has one already."""
    Payment.objects.filter(client=duplicate).update(client=keep)
    if StripeCustomer.objects.filter(client=keep).exists():
        StripeCustomer.objects.filter(client=duplicate).delete()
    else:
        StripeCustomer.objects.filter(client=duplicate).update(client=keep)
