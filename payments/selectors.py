"""Reads about money for staff pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bookings.models import Appointment
from clinic.roles import Actor
from payments import access, rules
from payments.models import Payment


@dataclass(frozen=True)
class PaymentLine:
    kind: str
    amount: str
    status: str
    refunded: str


def payment_lines_for(*, appointment: Appointment, actor: Actor) -> list[PaymentLine]:
    """The deposit and fees of ``appointment`` as the desk panel shows them (empty for anyone
    who may not see payments)."""
    if not access.may(actor, access.SEE_PAYMENTS):
        return []
    lines = []
    for payment in Payment.objects.filter(appointment=appointment).prefetch_related("refunds"):
        refunded = payment.amount_refunded
        lines.append(
            PaymentLine(
                kind=payment.get_kind_display(),
                amount=rules.format_money(payment.amount, payment.currency),
                status=payment.get_status_display(),
                refunded=rules.format_money(refunded, payment.currency) if refunded else "",
            )
        )
    return lines


@dataclass(frozen=True)
class DeskPaymentActions:
    """Which payment buttons the desk panel shows (each one the service would accept)."""

    send_deposit_link: bool
    charge_fee: str  # the fee's amount, or "" when there is nothing to charge
    waive_fee: bool
    refundable: list[tuple[int, str]]  # (payment id, label)


def desk_payment_actions(*, appointment: Appointment, actor: Actor) -> DeskPaymentActions:
    from payments.models import StripeCustomer
    from payments.services.deposits import LIVE_STATUSES, deposit_for
    from payments.services.fees import fee_due

    payments = list(Payment.objects.filter(appointment=appointment).prefetch_related("refunds"))
    deposit_paid = any(
        p.kind == Payment.Kind.DEPOSIT and p.status == Payment.Status.SUCCEEDED for p in payments
    )
    send_link = (
        access.may(actor, access.SEND_PAYMENT_LINK)
        and appointment.client_id is not None
        and appointment.status in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
        and not deposit_paid
        and deposit_for(service=appointment.service, location=appointment.location) is not None
    )
    due = fee_due(appointment=appointment)
    fee_settled = due is not None and any(
        p.kind == due[0] and (p.status in LIVE_STATUSES or p.status == Payment.Status.WAIVED)
        for p in payments
    )
    has_card = StripeCustomer.objects.filter(
        client=appointment.client, card_saved_at__isnull=False
    ).exclude(payment_method_id="")
    charge = ""
    if (
        due is not None
        and not fee_settled
        and access.may(actor, access.CHARGE_FEE)
        and has_card.exists()
    ):
        charge = rules.format_money(due[1], appointment.payment_terms.currency)
    refundable = [
        (p.pk, f"{p.get_kind_display()} {rules.format_money(p.amount, p.currency)}")
        for p in payments
        if p.status == Payment.Status.SUCCEEDED and p.amount_refunded < p.amount
    ]
    return DeskPaymentActions(
        send_deposit_link=send_link,
        charge_fee=charge,
        waive_fee=due is not None and not fee_settled and access.may(actor, access.WAIVE),
        refundable=refundable if access.may(actor, access.REFUND) else [],
    )


def deposits_owed(*, appointments: Iterable[Appointment]) -> dict[int, str]:
    """For the desk's Today sheet: the deposit (formatted) of each appointment whose policy
    takes one and that has no paid or waived deposit yet; completed visits owe nothing here."""
    from payments.services.deposits import deposit_for

    wanted = [a for a in appointments if a.status != Appointment.Status.COMPLETED]
    settled = set(
        Payment.objects.filter(
            appointment__in=wanted,
            kind=Payment.Kind.DEPOSIT,
            status__in=[Payment.Status.SUCCEEDED, Payment.Status.WAIVED],
        ).values_list("appointment_id", flat=True)
    )
    owed: dict[int, str] = {}
    for appointment in wanted:
        if appointment.pk in settled:
            continue
        found = deposit_for(service=appointment.service, location=appointment.location)
        if found is not None:
            policy, amount = found
            owed[appointment.pk] = rules.format_money(amount, policy.currency)
    return owed
