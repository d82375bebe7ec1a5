"""API bearer tokens with scopes ``admin``, ``issue``, ``read`` and ``metrics``, stored hashed.

A token is ``sijil_`` + 43 URL-safe characters (256 bits from :mod:`secrets`); the database keeps
only its SHA-256 (a fast hash is right for a high-entropy secret: nothing to brute-force) and an
8-character prefix so an admin can tell tokens apart. ``admin`` implies every scope.
``metrics`` only lets a Prometheus scraper read ``/metrics``: ``read`` would also open every
learner's awards to it.

A token may be limited to one issuer (``issuer``): it then acts only on that issuer's awards,
keys and credentials; :func:`require_issuer` is the check every shell applies (the web layer in
:mod:`issuer.web.auth`), ``TOKEN_ISSUER_SCOPE`` (403) otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.db.keylifecycle import ApiTokenIssuer
from issuer.db.models import ApiToken, Issuer
from issuer.services import audit
from issuer.services.errors import InsufficientScopeError, InvalidTokenError, NotFoundError
from issuer.services.runtime import Runtime, as_utc

__all__ = [
    "SCOPES",
    "Scope",
    "TokenIssuerScopeError",
    "TokenView",
    "create_token",
    "hash_token",
    "list_tokens",
    "require_issuer",
    "revoke_token",
    "verify_token",
]

Scope = Literal["admin", "issue", "read", "metrics"]
SCOPES: tuple[Scope, ...] = ("admin", "issue", "read", "metrics")
TOKEN_PREFIX = "sijil_"  # noqa: S105 (a public prefix, not a secret)


class TokenIssuerScopeError(SijilError):
    """The token is limited to another issuer, or the operation spans every issuer."""

    code = "TOKEN_ISSUER_SCOPE"
    title = "Token is limited to another issuer"
    http_status = 403


@dataclass(frozen=True)
class TokenView:
    """A token's public facts (never the secret)."""

    id: int
    prefix: str
    label: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    #: slug of the one issuer the token may act on (``None``: every issuer).
    issuer: str | None = None

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
            "issuer": self.issuer,
        }


def _issuer_slugs(session: Session, token_ids: list[int]) -> dict[int, str]:
    return {
        token_id: slug
        for token_id, slug in session.execute(
            select(ApiTokenIssuer.token_id, Issuer.slug)
            .join(Issuer, Issuer.id == ApiTokenIssuer.issuer_id)
            .where(ApiTokenIssuer.token_id.in_(token_ids))
        )
    }


def _view(row: ApiToken, issuer: str | None) -> TokenView:
    revoked = as_utc(row.revoked_at) if row.revoked_at else None
    return TokenView(
        row.id, row.prefix, row.label, tuple(row.scopes), as_utc(row.created_at), revoked, issuer
    )


def require_issuer(token: TokenView, issuer: str | None, what: str) -> None:
    """Raise ``TOKEN_ISSUER_SCOPE`` unless ``token`` may act on issuer ``issuer`` (a slug;
    ``None``: the operation spans every issuer, which only an unlimited token may do).
    ``what`` names the operation in the message."""
    if token.issuer is None:
        return
    if issuer is None:
        raise TokenIssuerScopeError(
            f"this token is limited to issuer {token.issuer!r}; {what} is not limited to one "
            "issuer (use a token without --issuer)"
        )
    if issuer != token.issuer:
        raise TokenIssuerScopeError(
            f"this token is limited to issuer {token.issuer!r}; {what} belongs to another issuer"
        )


def hash_token(secret: str) -> str:
    """SHA-256 hex of the token as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    rt: Runtime,
    scopes: Iterable[str],
    *,
    label: str = "",
    actor: str,
    issuer: str | None = None,
) -> tuple[TokenView, str]:
    """A new token; returns its view and the secret (shown once, never stored). With
    ``issuer`` (a slug) the token acts only on that issuer's awards, keys and credentials.

    Raises ``MALFORMED_VALUE_ERROR`` for an unknown or empty scope list, ``NOT_FOUND`` for an
    unknown issuer.
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
        if issuer is not None:
            issuer_id = session.scalar(select(Issuer.id).where(Issuer.slug == issuer))
            if issuer_id is None:
                raise NotFoundError(f"no issuer {issuer!r}")
            session.add(ApiTokenIssuer(token_id=row.id, issuer_id=issuer_id))
        audit.record(
            session,
            at=now,
            actor=actor,
            action="token.create",
            target_type="token",
            target_id=str(row.id),
            detail={"scopes": list(wanted), "label": label, "issuer": issuer},
        )
        view = _view(row, issuer)
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
        view = _view(row, _issuer_slugs(session, [row.id]).get(row.id))
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
        return _view(row, _issuer_slugs(session, [row.id]).get(row.id))


def list_tokens(rt: Runtime) -> list[TokenView]:
    """Every token, oldest first."""
    with rt.reading() as session:
        rows = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
        slugs = _issuer_slugs(session, [r.id for r in rows])
        return [_view(r, slugs.get(r.id)) for r in rows]
