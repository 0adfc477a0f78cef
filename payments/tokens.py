"""Signed references to a payment for the pay page (the client's browser or a texted link)."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

PAY_SALT = "payments.pay"
PAY_LINK_LIFETIME = timedelta(days=3)


def pay_token_for(payment_id: int) -> str:
    return signing.dumps({"p": payment_id}, salt=PAY_SALT)


def payment_id_from_token(token: str) -> int:
    """Raises signing.BadSignature (incl. SignatureExpired) for a forged or old token."""
    value = signing.loads(token, salt=PAY_SALT, max_age=PAY_LINK_LIFETIME)
    return int(value["p"])
