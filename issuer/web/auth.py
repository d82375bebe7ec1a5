"""Bearer-token authentication (RFC 6750) for the issuer's API.

The token service (:mod:`issuer.services.tokens`) owns tokens, scopes and hashing; this module
only reads the ``Authorization`` header and builds the RFC 6750 ``WWW-Authenticate`` challenge
that goes with a 401 or 403 answer. Scopes: ``admin`` (manage issuers, catalogue, learners,
keys, tokens; implies the others), ``issue`` (progress, signing), ``read`` (awards).

Errors: ``INVALID_TOKEN`` (401, missing, malformed, unknown or revoked token) and
``INSUFFICIENT_SCOPE`` (403), both from the token service.
"""

from __future__ import annotations

from typing import Final

from issuer.services.errors import InvalidTokenError
from issuer.services.runtime import Runtime
from issuer.services.tokens import Scope, TokenView, verify_token

__all__ = ["REALM", "authenticate", "bearer_secret", "challenge"]

REALM: Final = "sijil-issuer"
# A token is printable ASCII without spaces (RFC 6750 b64token); longer ones are not ours.
_MAX_TOKEN_LENGTH: Final = 256


def bearer_secret(authorization: str | None) -> str | None:
    """The secret of an ``Authorization: Bearer <token>`` header, ``None`` when absent.

    Raises ``INVALID_TOKEN`` for another scheme or a malformed token.
    """
    if not authorization:
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidTokenError("the Authorization header must use the Bearer scheme")
    secret = secret.strip()
    if (
        not secret
        or len(secret) > _MAX_TOKEN_LENGTH
        or not secret.isascii()
        or not secret.isprintable()
        or " " in secret
    ):
        raise InvalidTokenError("the bearer token is malformed")
    return secret


def authenticate(rt: Runtime, authorization: str | None, scope: Scope) -> TokenView:
    """The token behind ``authorization`` if it grants ``scope``.

    Raises ``INVALID_TOKEN`` (401) or ``INSUFFICIENT_SCOPE`` (403).
    """
    return verify_token(rt, bearer_secret(authorization), scope)


def challenge(status: int, *, token_sent: bool, scope: str | None) -> str:
    """The ``WWW-Authenticate`` value for a 401 or 403 answer (RFC 6750 section 3)."""
    if status == 403:
        return f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope or ""}"'
    if token_sent:
        return f'Bearer realm="{REALM}", error="invalid_token"'
    return f'Bearer realm="{REALM}"'
