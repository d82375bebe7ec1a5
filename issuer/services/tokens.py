"""API bearer tokens with scopes ``admin``, ``issue``, ``read`` and ``metrics``, stored hashed.

A token is ``sijil_`` + 43 URL-safe characters (256 bits from :mod:`secrets`); the database keeps
only its SHA-256 (a fast hash is right for a high-entropy secret: nothing to brute-force) and an
8-character prefix so an admin can tell tokens apart. ``admin`` implies every scope.
``metrics`` only lets a Prometheus scraper read ``/metrics``: ``read`` would also open every
learner's awards to it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from contexts.errors import MalformedValueError
from issuer.db.models import ApiToken
from issuer.services import audit
from issuer.services.errors import InsufficientScopeError, InvalidTokenError, NotFoundError
from issuer.services.runtime import Runtime, as_utc

__all__ = [
    "SCOPES",
    "Scope",
    "TokenView",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "verify_token",
]

Scope = Literal["admin", "issue", "read", "metrics"]
SCOPES: tuple[Scope, ...] = ("admin", "issue", "read", "metrics")
TOKEN_PREFIX = "sijil_"  # noqa: S105 (a public prefix, not a secret)


@dataclass(frozen=True)
class TokenView:
    """A token's public facts (never the secret)."""

    id: int
    prefix: str
    label: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def principal(self) -> str:
        """How the audit log names requests made with this token."""
        return f"token:{self.id}"

    def has_scope(self, scope: str) -> bool:
        """Whether the token grants ``scope`` (``admin`` grants all)."""
        return scope in self.scopes or "admin" in self.scopes

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "prefix": self.prefix,
            "label": self.label,
            "scopes": list(self.scopes),
            "createdAt": self.created_at.isoformat(),
            "revokedAt": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _view(row: ApiToken) -> TokenView:
    revoked = as_utc(row.revoked_at) if row.revoked_at else None
    return TokenView(
        row.id, row.prefix, row.label, tuple(row.scopes), as_utc(row.created_at), revoked
    )


def hash_token(secret: str) -> str:
    """SHA-256 hex of the token as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    rt: Runtime, scopes: Iterable[str], *, label: str = "", actor: str
) -> tuple[TokenView, str]:
    """A new token; returns its view and the secret (shown once, never stored).

    Raises ``MALFORMED_VALUE_ERROR`` for an unknown or empty scope list.
    """
    wanted = tuple(dict.fromkeys(scopes))
    if not wanted or any(s not in SCOPES for s in wanted):
        raise MalformedValueError(
            f"scopes must be a non-empty subset of {', '.join(SCOPES)}", pointer="/scopes"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = rt.now()
    with rt.transaction() as session:
        row = ApiToken(
            token_hash=hash_token(secret),
            prefix=secret[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8],
            label=label,
            scopes=list(wanted),
            created_at=now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="token.create",
            target_type="token",
            target_id=str(row.id),
            detail={"scopes": list(wanted), "label": label},
        )
        view = _view(row)
    return view, secret


def verify_token(rt: Runtime, secret: str | None, scope: str) -> TokenView:
    """The token's view if it is known, unrevoked and grants ``scope``.

    Raises ``INVALID_TOKEN`` (401) for a missing, unknown or revoked token and
    ``INSUFFICIENT_SCOPE`` (403) when it lacks ``scope``.
    """
    if not secret or not secret.startswith(TOKEN_PREFIX):
        raise InvalidTokenError("a bearer token is required")
    with rt.reading() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
        if row is None or row.revoked_at is not None:
            raise InvalidTokenError("unknown or revoked token")
        view = _view(row)
    if not view.has_scope(scope):
        raise InsufficientScopeError(f"this operation needs the {scope!r} scope")
    return view


def revoke_token(rt: Runtime, token_id: int, *, actor: str) -> TokenView:
    """Revoke a token (idempotent). Raises ``NOT_FOUND``."""
    now = rt.now()
    with rt.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"no token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now
            audit.record(
                session,
                at=now,
                actor=actor,
                action="token.revoke",
                target_type="token",
                target_id=str(token_id),
            )
        return _view(row)


def list_tokens(rt: Runtime) -> list[TokenView]:
    """Every token, oldest first."""
    with rt.reading() as session:
        return [_view(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]
