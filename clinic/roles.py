"""Staff roles are Django groups. Services check them with ``require_role(actor, …)`` so every
interface (API, staff pages, admin actions) gets the same answer."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

from clinic.errors import PermissionDenied

# Whoever asks a service for something: a staff user, an anonymous visitor, or nobody (the
# system). The project uses Django's default user model.
Actor: TypeAlias = User | AnonymousUser | None

RECEPTION = "reception"
PRACTITIONER = "practitioner"
MANAGER = "manager"
ALL_ROLES = (RECEPTION, PRACTITIONER, MANAGER)
CLINICAL_ROLES = (PRACTITIONER, MANAGER)


def user_of(actor: Actor) -> User | None:
    """The staff user behind ``actor`` for a "who did it" column (None for a visitor or the
    system)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def roles_of(user: Actor) -> set[str]:
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(ALL_ROLES)
    cached = getattr(user, "_aftercare_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._aftercare_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: Actor, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user: Actor) -> bool:
    return bool(roles_of(user))


def require_role(user: Actor, *roles: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` holds one of ``roles``."""
    if not has_role(user, *roles):
        raise PermissionDenied(f"This needs the {' or '.join(roles)} role")


def actor_label(user: Actor) -> str:
    if user is None or not user.is_authenticated:
        return "client"
    return f"staff:{user.get_username()}"
