"""The deposit a service asks, as the public catalogue shows it. The amount is a rule of the
payments app (its payment policy), which ``clinic`` must not import: payments registers the
lookup when it starts (``PaymentsConfig.ready``), like the registries in ``bookings.checkout``.
Without one (payments not installed), no service asks a deposit."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from clinic.models import Service

# (service) -> the every-location deposit in major units (pounds), Decimal("0") for none.
DepositLookup = Callable[[Service], Decimal]

_lookup: list[DepositLookup] = []


def register_deposit_lookup(lookup: DepositLookup) -> None:
    """Register (or replace, so ``AppConfig.ready`` may run twice) the deposit lookup."""
    _lookup[:] = [lookup]


def catalogue_deposit(service: Service) -> Decimal:
    return _lookup[0](service) if _lookup else Decimal("0")
