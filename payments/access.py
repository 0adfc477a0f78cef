"""Who on the staff may do what with money: the one rule for the desk panel, the staff API
and the admin. Reception takes deposits (payment links) and charges the fees the booking's
terms set; only managers give money back or waive what is owed."""

from __future__ import annotations

from clinic import roles
from clinic.roles import Actor

SEE_PAYMENTS = (roles.RECEPTION, roles.PRACTITIONER, roles.MANAGER)
SEND_PAYMENT_LINK = (roles.RECEPTION, roles.MANAGER)
CHARGE_FEE = (roles.RECEPTION, roles.MANAGER)
REFUND = (roles.MANAGER,)
WAIVE = (roles.MANAGER,)
SEE_RECONCILIATION = (roles.MANAGER,)


def may(actor: Actor, action: tuple[str, ...]) -> bool:
    return roles.has_role(actor, *action)


def require(actor: Actor, action: tuple[str, ...]) -> None:
    roles.require_role(actor, *action)
