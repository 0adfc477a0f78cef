"""The short signed token in an offer's claim link (``/w/<token>/``).

It names one offer and nothing else; whether the offer can still be claimed is the offer's
status, so a token needs no expiry of its own. A tampered token is ``NotFound``.
"""

from __future__ import annotations

from django.core import signing

from clinic.errors import NotFound

OFFER_SALT = "waitlist.offer"


def _signer() -> signing.Signer:
    return signing.Signer(salt=OFFER_SALT)


def offer_token_for(offer_id: int) -> str:
    return _signer().sign(signing.b62_encode(offer_id))


def offer_id_from_token(token: str) -> int:
    """The offer id a claim token names. Raises NotFound for a tampered or foreign token."""
    try:
        return signing.b62_decode(_signer().unsign(token))
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound("This link is not valid. Please use the link from your text.") from None
