"""Signed links that name one row and carry their own expiry (manage and care links).

A token is Django's ``Signer`` over ``[id, expiry epoch seconds]``: the full HMAC, no keys and
no signing timestamp (the expiry is in the payload). The links go into most texts, and
``signing.dumps({"a": id, "e": expiry})`` was 18 characters longer at a ten-digit id, which
pushed default texts into a third SMS segment once ids grew (they grow with the clinic).
Links sent earlier in that form stay valid until their own expiry.
"""

from __future__ import annotations

from datetime import datetime

from django.core import signing


def link_token_for(*, salt: str, object_id: int, expires_at: datetime) -> str:
    return signing.Signer(salt=salt).sign_object([object_id, int(expires_at.timestamp())])


def link_token_read(token: str, *, salt: str) -> tuple[int, int]:
    """(id, expiry epoch seconds) of a genuine token. Raises signing.BadSignature, or
    ValueError/KeyError/TypeError for a well-signed value of another shape."""
    if token.count(":") == 2:
        # payload:timestamp:signature, from signing.dumps (links sent before the short form).
        payload = signing.loads(token, salt=salt)
        return int(payload["a"]), int(payload["e"])
    object_id, expires_epoch = signing.Signer(salt=salt).unsign_object(token)
    return int(object_id), int(expires_epoch)
