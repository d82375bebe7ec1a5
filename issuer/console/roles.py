"""Staff roles and what each may do. Pure.

- ``admin``: everything (staff, issuers and keys, API tokens, and all a registrar does);
- ``registrar``: catalogue, learners, progress imports, awards (revoke, suspend, re-issue) and
  claim links;
- ``viewer``: reads every page, changes nothing;
- ``auditor``: reads the audit log only.

Views name the :data:`Permission` they need; :func:`is_allowed` is the single check.
"""

from __future__ import annotations

from typing import Final, Literal

from contexts.errors import MalformedValueError, SijilError

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "ConsoleForbiddenError",
    "Permission",
    "Role",
    "is_allowed",
    "parse_role",
]

Role = Literal["admin", "registrar", "viewer", "auditor"]
ROLES: Final[tuple[Role, ...]] = ("admin", "registrar", "viewer", "auditor")

Permission = Literal[
    "read",
    "audit",
    "catalogue.write",
    "progress.write",
    "awards.write",
    "learners.write",
    "issuers.write",
    "tokens.write",
    "staff.write",
]
PERMISSIONS: Final[tuple[Permission, ...]] = (
    "read",
    "audit",
    "catalogue.write",
    "progress.write",
    "awards.write",
    "learners.write",
    "issuers.write",
    "tokens.write",
    "staff.write",
)

_REGISTRAR: Final[frozenset[Permission]] = frozenset(
    {"read", "catalogue.write", "progress.write", "awards.write", "learners.write"}
)
_GRANTS: Final[dict[Role, frozenset[Permission]]] = {
    "admin": frozenset(PERMISSIONS),
    "registrar": _REGISTRAR,
    "viewer": frozenset({"read", "audit"}),
    "auditor": frozenset({"audit"}),
}


class ConsoleForbiddenError(SijilError):
    """The signed-in staff member's role does not allow this page or action."""

    code = "FORBIDDEN"
    title = "Not allowed for your role"
    http_status = 403


def parse_role(value: str) -> Role:
    """``value`` as a :data:`Role`. Raises ``MALFORMED_VALUE_ERROR`` for anything else."""
    for role in ROLES:
        if value == role:
            return role
    raise MalformedValueError(
        f"role must be one of {', '.join(ROLES)}, not {value!r}", pointer="/role"
    )


def is_allowed(role: str, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission`` (an unknown role grants nothing)."""
    for known in ROLES:
        if role == known:
            return permission in _GRANTS[known]
    return False
