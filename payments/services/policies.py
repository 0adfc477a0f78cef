"""A service's payment policy as the clinic settings page edits it: parsed from what the form
sent (pounds and pence, hours, kept/refunded), validated by ``PaymentPolicy.clean`` (the same
rules the admin's form runs) and audited as a ``SettingsChange`` beside the service's own
changes, so a manager reads one history for everything about the service.

The page edits the every-location policy (``location`` empty); a different policy for one
location stays an admin task, and wins at that location (``deposits.policy_for``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from clinic import roles
from clinic.errors import ValidationFailed
from clinic.models import Location, Service, SettingsChange
from clinic.parsing import parse_pounds
from clinic.roles import Actor
from payments import gateway, rules
from payments.models import DepositRule, PaymentPolicy
from payments.services.deposits import deposit_for

logger = logging.getLogger(__name__)

# The form's names (the settings page posts them under these names) and the policy's fields.
POLICY_FIELDS = (
    "deposit_amount",
    "deposit_percent",
    "keeps_card_on_file",
    "late_cancel_window_hours",
    "late_cancel_fee",
    "no_show_fee",
    "deposit_on_late_cancel",
    "deposit_on_early_cancel",
    "deposit_on_no_show",
    "wording",
)
MONEY_FIELDS = ("deposit_amount", "late_cancel_fee", "no_show_fee")
WORDING_LIMIT = 2000


def policy_of(service: Service | None) -> PaymentPolicy | None:
    """The every-location policy of ``service`` (active or not), or None."""
    if service is None or service.pk is None:
        return None
    return PaymentPolicy.objects.filter(service=service, location__isnull=True).first()


def policy_form_values(policy: PaymentPolicy | None) -> dict[str, str]:
    """The policy as the settings form shows it (pounds and pence, "on" for a tick)."""
    shown = policy or PaymentPolicy()
    values: dict[str, str] = {}
    for name in POLICY_FIELDS:
        value = getattr(shown, name)
        if name in MONEY_FIELDS:
            values[name] = f"{value // 100}.{value % 100:02d}" if value else ""
        elif isinstance(value, bool):
            values[name] = "on" if value else ""
        else:
            values[name] = "" if value is None else str(value)
    if policy is not None and not policy.is_active:
        values = {**values, "deposit_amount": "", "deposit_percent": ""}
    return values


def _money(values: Mapping[str, Any], name: str, label: str) -> int:
    amount = parse_pounds(values.get(name), field=name, label=label, under=Decimal("100000"))
    return rules.to_minor_units(amount)


def _whole(
    values: Mapping[str, Any], name: str, label: str, *, minimum: int, maximum: int
) -> int | None:
    raw = str(values.get(name, "") or "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > 6 or not minimum <= int(raw) <= maximum:
        raise ValidationFailed(
            f"Give {label} as a whole number from {minimum} to {maximum}.", field=name
        )
    return int(raw)


def _rule(values: Mapping[str, Any], name: str, default: str) -> str:
    raw = str(values.get(name, "") or "").strip() or default
    if raw not in DepositRule.values:
        raise ValidationFailed("Choose kept or refunded.", field=name)
    return raw


def policy_parse(values: Mapping[str, Any]) -> dict[str, object]:
    """The policy fields from what the form sent; raises ValidationFailed naming the field."""
    window = _whole(
        values,
        "late_cancel_window_hours",
        "the late-cancellation window in hours",
        minimum=1,
        maximum=24 * 30,
    )
    wording = str(values.get("wording", "") or "").strip().replace("\r\n", "\n")
    if len(wording) > WORDING_LIMIT:
        raise ValidationFailed(
            f"Keep the wording under {WORDING_LIMIT} characters.", field="wording"
        )
    return {
        "deposit_amount": _money(values, "deposit_amount", "the deposit"),
        "deposit_percent": _whole(
            values, "deposit_percent", "the deposit percentage", minimum=1, maximum=100
        ),
        "keeps_card_on_file": str(values.get("keeps_card_on_file", "")) in {"on", "true", "1"},
        "late_cancel_window_hours": window
        if window is not None
        else int(rules.DEFAULT_LATE_CANCEL_WINDOW.total_seconds() // 3600),
        "late_cancel_fee": _money(values, "late_cancel_fee", "the late-cancellation fee"),
        "no_show_fee": _money(values, "no_show_fee", "the no-show fee"),
        "deposit_on_late_cancel": _rule(values, "deposit_on_late_cancel", DepositRule.KEEP),
        "deposit_on_early_cancel": _rule(values, "deposit_on_early_cancel", DepositRule.REFUND),
        "deposit_on_no_show": _rule(values, "deposit_on_no_show", DepositRule.KEEP),
        "wording": wording,
    }


@transaction.atomic
def policy_save(
    *, actor: Actor, service: Service, values: Mapping[str, Any]
) -> PaymentPolicy | None:
    """Set the every-location payment policy of ``service`` from the settings form. A policy
    that asks for nothing (no deposit, no fees, no card) is switched off rather than deleted
    (terms already agreed copy it, and the history stays); none is created for it. Raises
    PermissionDenied unless a manager, ValidationFailed naming the field."""
    roles.require_role(actor, roles.MANAGER)
    wanted = policy_parse(values)
    policy = (
        PaymentPolicy.objects.select_for_update()
        .filter(service=service, location__isnull=True)
        .first()
    )
    probe = PaymentPolicy(service=service, **wanted)
    if policy is None and not probe.asks_for_money:
        return None
    is_new = policy is None
    if policy is None:
        policy = PaymentPolicy(service=service, location=None)
    before = {name: getattr(policy, name) for name in (*POLICY_FIELDS, "is_active")}
    for name, value in wanted.items():
        setattr(policy, name, value)
    policy.is_active = probe.asks_for_money
    try:
        policy.full_clean(validate_constraints=False)
    except DjangoValidationError as failure:
        by_field = failure.message_dict
        name = next(iter(by_field))
        raise ValidationFailed(
            by_field[name][0], field=None if name == "__all__" else name
        ) from None
    changes: dict[str, list[object]] = {
        name: [before[name], getattr(policy, name)]
        for name in before
        if is_new or before[name] != getattr(policy, name)
    }
    if not changes:
        return policy
    policy.save()
    SettingsChange.objects.create(
        entity="payment_policy",
        object_id=policy.pk,
        summary=f"{'Added' if is_new else 'Changed'} the payment policy of {service}"[:200],
        actor=roles.user_of(actor),
        actor_label=roles.actor_label(actor),
        changes=changes,
    )
    logger.info(
        "payment policy changed",
        extra={"policy_id": policy.pk, "fields": sorted(changes)},
    )
    return policy


def deposit_label(policy: PaymentPolicy | None) -> str:
    """The deposit as the services list shows it: "20%", "£50" or ""."""
    if policy is None or not policy.is_active:
        return ""
    if policy.deposit_percent:
        return f"{policy.deposit_percent}%"
    return (
        rules.format_money(policy.deposit_amount, policy.currency) if policy.deposit_amount else ""
    )


def price_note(*, service: Service, location: Location) -> str:
    """``bookings.checkout`` price note: the deposit of ``service`` at ``location``, and that
    it is paid at the clinic while online payments are switched off."""
    found = deposit_for(service=service, location=location)
    if found is None:
        return ""
    policy, amount = found
    deposit = rules.format_money(amount, policy.currency)
    if not gateway.is_configured():
        return f"deposit {deposit}, paid at the clinic: online payment is not available"
    return f"deposit {deposit}, paid when you book"


def payments_off_with_policies() -> bool:
    """Whether services ask for money while payments are switched off (no Stripe key): the
    staff banner's question."""
    if gateway.is_configured():
        return False
    return any(
        policy.asks_for_money for policy in PaymentPolicy.objects.filter(is_active=True)[:200]
    )


def catalogue_deposit(service: Service) -> Decimal:
    """``clinic.pricing`` lookup: the every-location deposit of ``service`` in pounds."""
    policy = policy_of(service)
    if policy is None or not policy.is_active:
        return Decimal("0")
    return Decimal(rules.deposit_for(policy, price=service.price)) / 100
