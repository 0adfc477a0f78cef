"""The money rules, as plain functions of a policy or of the terms a booking was made on: how
much the deposit is, whether a cancellation is late, what happens to the deposit, which fee
applies. Services, pages and the admin ask here; nothing else restates them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from payments.models import DepositRule, PaymentPolicy, PaymentTerms

DEFAULT_LATE_CANCEL_WINDOW = timedelta(hours=48)


def to_minor_units(amount: Decimal | int) -> int:
    """A catalogue price (major units, two decimals) in minor units."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def deposit_for(policy: PaymentPolicy, *, price: Decimal) -> int:
    """The deposit in minor units: the percentage of ``price`` when set (rounded half up),
    else the fixed amount; never more than the price."""
    price_minor = to_minor_units(price)
    if policy.deposit_percent is not None:
        amount = (price_minor * policy.deposit_percent + 50) // 100
    else:
        amount = policy.deposit_amount
    return max(0, min(amount, price_minor)) if price_minor else max(0, amount)


def format_money(amount: int, currency: str) -> str:
    symbol = {"gbp": "£", "eur": "€", "usd": "$"}.get(currency.lower())
    major = f"{amount // 100}.{amount % 100:02d}"
    if major.endswith(".00"):
        major = major[:-3]
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"


def wording_for(policy: PaymentPolicy, *, deposit: int) -> str:
    """The sentence the client accepts before paying: the policy's own wording, or one
    written from its numbers."""
    if policy.wording.strip():
        return policy.wording.strip()
    money = format_money
    parts = [f"A deposit of {money(deposit, policy.currency)} is taken now to hold your time."]
    hours = policy.late_cancel_window_hours
    if policy.deposit_on_early_cancel == DepositRule.REFUND:
        parts.append(f"Cancel more than {hours} hours before and it is refunded in full.")
    late = "the deposit is kept" if policy.deposit_on_late_cancel == DepositRule.KEEP else ""
    if policy.late_cancel_fee:
        fee = f"a fee of {money(policy.late_cancel_fee, policy.currency)} is charged"
        late = f"{late} and {fee}" if late else fee
    if late:
        parts.append(f"Cancel within {hours} hours of your visit and {late}.")
    no_show = "the deposit is kept" if policy.deposit_on_no_show == DepositRule.KEEP else ""
    if policy.no_show_fee:
        fee = f"a fee of {money(policy.no_show_fee, policy.currency)} is charged"
        no_show = f"{no_show} and {fee}" if no_show else fee
    if no_show:
        parts.append(f"If you miss your visit, {no_show}.")
    if policy.keeps_card_on_file:
        parts.append("Your card is kept on file, with your consent, for these fees only.")
    parts.append("If the clinic cancels, your deposit is always refunded in full.")
    return " ".join(parts)


def terms_from(policy: PaymentPolicy, *, deposit: int, accepted_at: datetime) -> PaymentTerms:
    """Unsaved terms copying ``policy`` as the client accepts it now."""
    return PaymentTerms(
        currency=policy.currency,
        deposit_amount=deposit,
        keeps_card_on_file=policy.keeps_card_on_file,
        late_cancel_window_hours=policy.late_cancel_window_hours,
        late_cancel_fee=policy.late_cancel_fee,
        no_show_fee=policy.no_show_fee,
        deposit_on_late_cancel=policy.deposit_on_late_cancel,
        deposit_on_early_cancel=policy.deposit_on_early_cancel,
        deposit_on_no_show=policy.deposit_on_no_show,
        wording=wording_for(policy, deposit=deposit),
        accepted_at=accepted_at,
    )


def is_late_cancellation(terms: PaymentTerms, *, start_at: datetime, now: datetime) -> bool:
    """Inside the window: fewer than ``late_cancel_window_hours`` before the start."""
    return start_at - now < timedelta(hours=terms.late_cancel_window_hours)


@dataclass(frozen=True)
class CancellationOutcome:
    """What a cancellation does to the money: the deposit refunded or kept, and a fee."""

    refund_deposit: bool
    fee: int
    is_late: bool


def cancellation_outcome(
    terms: PaymentTerms, *, start_at: datetime, now: datetime, by_clinic: bool
) -> CancellationOutcome:
    """A clinic-initiated cancellation always refunds in full and charges nothing; a client's
    follows the window."""
    if by_clinic:
        return CancellationOutcome(refund_deposit=True, fee=0, is_late=False)
    if is_late_cancellation(terms, start_at=start_at, now=now):
        return CancellationOutcome(
            refund_deposit=terms.deposit_on_late_cancel == DepositRule.REFUND,
            fee=terms.late_cancel_fee,
            is_late=True,
        )
    return CancellationOutcome(
        refund_deposit=terms.deposit_on_early_cancel == DepositRule.REFUND, fee=0, is_late=False
    )


def no_show_outcome(terms: PaymentTerms) -> CancellationOutcome:
    return CancellationOutcome(
        refund_deposit=terms.deposit_on_no_show == DepositRule.REFUND,
        fee=terms.no_show_fee,
        is_late=True,
    )


def refundable(*, paid: int, refunded: int, asked: int) -> bool:
    """A refund must be positive and at most what is left of the payment."""
    return 0 < asked <= paid - refunded
