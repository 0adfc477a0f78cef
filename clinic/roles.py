"""Staff roles are Django groups. Services check them with ``require_role(actor, …)`` so every
interface (API, staff pages, admin actions) gets the same answer."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from clinic.errors import PermissionDenied

RECEPTION = "reception"
PRACTITIONER = "practitioner"
MANAGER = "manager"
ALL_ROLES = (RECEPTION, PRACTITIONER, MANAGER)
CLINICAL_ROLES = (PRACTITIONER, MANAGER)


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> set[str]:
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(ALL_ROLES)
    cached = getattr(user, "_aftercare_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._aftercare_roles = cached  # type: ignore[union-attr]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser | None, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(roles_of(user))


def require_role(user: AbstractBaseUser | AnonymousUser | None, *roles: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` holds one of ``roles``."""
    if not has_role(user, *roles):
        raise PermissionDenied(f"This needs the {' or '.join(roles)} role")


def actor_label(user: AbstractBaseUser | AnonymousUser | None) -> str:
    if user is None or not user.is_authenticated:
        return "client"
    return f"staff:{user.get_username()}"
