"""Staff accounts and one-time sign-in links (the service behind ``sijil-issuer staff`` and
the console's sign-in).

A sign-in link carries a 256-bit random secret; only its SHA-256 is stored, it expires after
:data:`LINK_LIFETIME` and works once. Every change is audited under the acting principal
(``cli``, or ``staff:<email>`` in the console); a redeemed link is audited as
``staff.sign_in`` under the staff member's own name.

Errors: ``MALFORMED_VALUE_ERROR`` (e-mail, role, locale), ``NOT_FOUND``,
``SIGN_IN_LINK_INVALID`` (400), ``SIGN_IN_LINK_USED`` (410), ``SIGN_IN_LINK_EXPIRED`` (410),
``STAFF_DISABLED`` (403).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.console.models import SignInLink, StaffUser
from issuer.console.roles import Role, parse_role
from issuer.services import audit
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime, as_utc

__all__ = [
    "LINK_LIFETIME",
    "LOCALES",
    "SignInLinkExpiredError",
    "SignInLinkInvalidError",
    "SignInLinkUsedError",
    "StaffDisabledError",
    "StaffView",
    "add_staff",
    "get_staff",
    "issue_sign_in_link",
    "list_staff",
    "record_sign_out",
    "redeem_sign_in_link",
    "set_locale",
    "sign_in_staff",
    "sign_in_url",
    "staff_actor",
]

LINK_LIFETIME: Final = timedelta(minutes=15)
LOCALES: Final = ("en", "ms")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignInLinkInvalidError(SijilError):
    """No such sign-in link."""

    code = "SIGN_IN_LINK_INVALID"
    title = "This sign-in link is not valid"
    http_status = 400


class SignInLinkUsedError(SijilError):
    """The link was already used (links work once)."""

    code = "SIGN_IN_LINK_USED"
    title = "This sign-in link was already used"
    http_status = 410


class SignInLinkExpiredError(SijilError):
    """The link is older than its lifetime."""

    code = "SIGN_IN_LINK_EXPIRED"
    title = "This sign-in link has expired"
    http_status = 410


class StaffDisabledError(SijilError):
    """The staff account is disabled."""

    code = "STAFF_DISABLED"
    title = "This staff account is disabled"
    http_status = 403


@dataclass(frozen=True)
class StaffView:
    """A staff member."""

    id: int
    email: str
    role: Role
    locale: str
    created_at: datetime
    disabled: bool

    @property
    def actor(self) -> str:
        """The audit log's name for this staff member."""
        return staff_actor(self.email)


def staff_actor(email: str) -> str:
    """``staff:<email>``: how the audit log names a staff member."""
    return f"staff:{email}"


def _view(row: StaffUser) -> StaffView:
    return StaffView(
        row.id,
        row.email,
        parse_role(row.role),
        row.locale,
        as_utc(row.created_at),
        row.disabled_at is not None,
    )


def _normal_email(email: str) -> str:
    address = email.strip().lower()
    if not _EMAIL.match(address) or len(address) > 320:
        raise MalformedValueError(f"{email!r} is not an e-mail address", pointer="/email")
    return address


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def add_staff(rt: Runtime, email: str, role: str, *, actor: str) -> StaffView:
    """Create staff member ``email`` with ``role``, or give an existing one that role
    (audited ``staff.add`` / ``staff.role``; a repeat with the same role changes nothing)."""
    address = _normal_email(email)
    wanted = parse_role(role)
    at = rt.now()
    with rt.transaction() as session:
        row = session.scalar(select(StaffUser).where(StaffUser.email == address))
        if row is None:
            row = StaffUser(email=address, role=wanted, locale="en", created_at=at)
            session.add(row)
            session.flush()
            audit.record(
                session,
                at=at,
                actor=actor,
                action="staff.add",
                target_type="staff",
                target_id=address,
                detail={"role": wanted},
            )
        elif row.role != wanted:
            audit.record(
                session,
                at=at,
                actor=actor,
                action="staff.role",
                target_type="staff",
                target_id=address,
                detail={"before": row.role, "role": wanted},
            )
            row.role = wanted
        return _view(row)


def list_staff(rt: Runtime) -> list[StaffView]:
    """Every staff member, by e-mail."""
    with rt.reading() as session:
        return [_view(r) for r in session.scalars(select(StaffUser).order_by(StaffUser.email))]


def get_staff(rt: Runtime, staff_id: int) -> StaffView:
    """Staff member ``staff_id``. Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        row = session.get(StaffUser, staff_id)
        if row is None:
            raise NotFoundError(f"no staff member {staff_id}")
        return _view(row)


def _staff_by_email(session: Session, email: str) -> StaffUser:
    row = session.scalar(select(StaffUser).where(StaffUser.email == _normal_email(email)))
    if row is None:
        raise NotFoundError(f"no staff member {email!r}")
    return row


def issue_sign_in_link(rt: Runtime, email: str, *, actor: str) -> str:
    """A new one-time sign-in secret for staff member ``email`` (audited ``staff.link``; the
    secret itself is never stored or logged). Raises ``NOT_FOUND``, ``STAFF_DISABLED``."""
    secret = secrets.token_urlsafe(32)
    at = rt.now()
    with rt.transaction() as session:
        row = _staff_by_email(session, email)
        if row.disabled_at is not None:
            raise StaffDisabledError(f"{row.email} is disabled")
        session.add(
            SignInLink(
                token_hash=_hash(secret),
                staff_id=row.id,
                created_at=at,
                expires_at=at + LINK_LIFETIME,
            )
        )
        audit.record(
            session,
            at=at,
            actor=actor,
            action="staff.link",
            target_type="staff",
            target_id=row.email,
            detail={"expires": (at + LINK_LIFETIME).isoformat()},
        )
    return secret


def sign_in_url(base_url: str, secret: str) -> str:
    """The console URL that redeems ``secret``."""
    return f"{base_url.rstrip('/')}/console/sign-in/{secret}"


def redeem_sign_in_link(rt: Runtime, secret: str) -> StaffView:
    """Use a sign-in link once: returns its staff member (audited ``staff.sign_in``).

    Raises ``SIGN_IN_LINK_INVALID``, ``SIGN_IN_LINK_USED``, ``SIGN_IN_LINK_EXPIRED``,
    ``STAFF_DISABLED``.
    """
    at = rt.now()
    with rt.transaction() as session:
        link = session.scalar(
            select(SignInLink).where(SignInLink.token_hash == _hash(secret)).with_for_update()
        )
        if link is None:
            raise SignInLinkInvalidError("no such sign-in link")
        if link.used_at is not None:
            raise SignInLinkUsedError("this sign-in link was already used; ask for a new one")
        if at > as_utc(link.expires_at):
            raise SignInLinkExpiredError("this sign-in link has expired; ask for a new one")
        row = session.get(StaffUser, link.staff_id)
        if row is None or row.disabled_at is not None:
            raise StaffDisabledError("this staff account is disabled")
        link.used_at = at
        audit.record(
            session,
            at=at,
            actor=staff_actor(row.email),
            action="staff.sign_in",
            target_type="staff",
            target_id=row.email,
            detail={"method": "link"},
        )
        return _view(row)


def sign_in_staff(rt: Runtime, email: str, *, method: str) -> StaffView:
    """Record a sign-in of an existing, enabled staff member by another ``method`` (``oidc``);
    audited ``staff.sign_in``. Raises ``NOT_FOUND``, ``STAFF_DISABLED``."""
    at = rt.now()
    with rt.transaction() as session:
        row = _staff_by_email(session, email)
        if row.disabled_at is not None:
            raise StaffDisabledError(f"{row.email} is disabled")
        audit.record(
            session,
            at=at,
            actor=staff_actor(row.email),
            action="staff.sign_in",
            target_type="staff",
            target_id=row.email,
            detail={"method": method},
        )
        return _view(row)


def record_sign_out(rt: Runtime, staff: StaffView) -> None:
    """Audit ``staff.sign_out`` (the session itself lives in the browser's cookie)."""
    with rt.transaction() as session:
        audit.record(
            session,
            at=rt.now(),
            actor=staff.actor,
            action="staff.sign_out",
            target_type="staff",
            target_id=staff.email,
        )


def set_locale(rt: Runtime, staff_id: int, locale: str) -> StaffView:
    """Remember staff member ``staff_id``'s console language (``en`` or ``ms``).

    Raises ``MALFORMED_VALUE_ERROR``, ``NOT_FOUND``."""
    if locale not in LOCALES:
        raise MalformedValueError(f"language must be one of {', '.join(LOCALES)}", pointer="/lang")
    with rt.transaction() as session:
        row = session.get(StaffUser, staff_id)
        if row is None:
            raise NotFoundError(f"no staff member {staff_id}")
        row.locale = locale
        return _view(row)
