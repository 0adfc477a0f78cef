"""Personal API tokens for staff scripts and integrations.

A token is ``ac_`` plus 43 URL-safe random characters. Only its SHA-256 is stored (a fast hash
is right here: the token has 256 bits of entropy, so there is nothing to brute-force), with a
short prefix so people can tell their tokens apart. The plain token is returned once. Tokens
expire ``API_TOKEN_LIFETIME_DAYS`` after creation and record when they were last used, so a
forgotten or leaked token does not work for ever and an unused one is easy to spot.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from bookings.models import ApiToken
from clinic import roles
from clinic.errors import PermissionDenied
from clinic.roles import Actor

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "ac_"  # noqa: S105 - a label, not a secret
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the plain token (shown once).

    Raises PermissionDenied unless the user holds a staff role.
    """
    if not roles.is_staff_member(user):
        raise PermissionDenied("API tokens are for staff with a role.")
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=raw_token[:10],
        token_hash=_digest(raw_token),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
    )
    logger.info("api token created", extra={"token_id": token.pk, "user_id": user.pk})
    return token, raw_token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token (idempotent); it stops working at once."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        logger.info("api token revoked", extra={"token_id": token.pk})
    return token


def api_token_authenticate(*, raw_token: str) -> Actor:
    """Return the active user a token belongs to, or None (unknown, revoked, expired, inactive
    user)."""
    if not raw_token.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_digest(raw_token), revoked_at__isnull=True)
        .exclude(expires_at__lte=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_create_for_username(*, username: str, name: str = "") -> tuple[ApiToken, str]:
    """For ``manage.py create_api_token``. Raises User.DoesNotExist, PermissionDenied."""
    user = get_user_model().objects.get(**{get_user_model().USERNAME_FIELD: username})
    return api_token_create(user=user, name=name)
