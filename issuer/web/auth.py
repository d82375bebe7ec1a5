"""Bearer-token authentication (RFC 6750) for the issuer's API, and issuer-limited tokens.

The token service (:mod:`issuer.services.tokens`) owns tokens, scopes and hashing; this module
reads the ``Authorization`` header, builds the RFC 6750 ``WWW-Authenticate`` challenge that goes
with a 401 or 403 answer, and applies a token's issuer limit to the route being called. Scopes:
``admin`` (manage issuers, catalogue, learners, keys, tokens; implies the others), ``issue``
(progress, signing), ``read`` (awards), ``metrics``.

A token limited to one issuer (``tokens create --issuer SLUG``) reaches only routes that act on
one issuer, and only that one: routes naming the issuer (``/issuers/<slug>/...``: its profile,
keys, VC-API issue), routes naming an award (``/awards/<award_id>...``: read, revoke, suspend,
re-issue) of that issuer, and ``POST /credentials/issue`` when it is the default issuer. Every
other route (lists, batches, progress imports, tokens, catalogue, metrics) spans issuers and
answers 403 ``TOKEN_ISSUER_SCOPE``, so such a token can never reach another issuer's data or
mint an unlimited token.

Errors: ``INVALID_TOKEN`` (401, missing, malformed, unknown or revoked token),
``INSUFFICIENT_SCOPE`` and ``TOKEN_ISSUER_SCOPE`` (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from flask import has_request_context, request

from issuer.services.awards import award_issuer
from issuer.services.errors import InvalidTokenError
from issuer.services.issuers import get_issuer
from issuer.services.runtime import Runtime
from issuer.services.tokens import Scope, TokenView, require_issuer, verify_token

__all__ = [
    "DEFAULT_ISSUER_RULES",
    "REALM",
    "authenticate",
    "authorize_route",
    "bearer_secret",
    "challenge",
]

REALM: Final = "sijil-issuer"
# A token is printable ASCII without spaces (RFC 6750 b64token); longer ones are not ours.
_MAX_TOKEN_LENGTH: Final = 256
#: Routes that act on the default issuer without naming it.
DEFAULT_ISSUER_RULES: Final = frozenset({"/credentials/issue"})


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


def authorize_route(
    rt: Runtime, token: TokenView, rule: str, view_args: Mapping[str, Any], method: str
) -> None:
    """Apply ``token``'s issuer limit to a call of route ``rule`` with ``view_args``.

    Raises ``TOKEN_ISSUER_SCOPE`` (see the module docstring); a route naming an award that
    does not exist is let through (the view answers 404).
    """
    if token.issuer is None:
        return
    what = f"{method} {rule}"
    slug = view_args.get("slug")
    if isinstance(slug, str):
        require_issuer(token, slug, what)
        return
    award_id = view_args.get("award_id")
    if isinstance(award_id, str):
        owner = award_issuer(rt, award_id)
        if owner is not None:
            require_issuer(token, owner, f"award {award_id}")
        return
    if rule in DEFAULT_ISSUER_RULES:
        require_issuer(token, get_issuer(rt).slug, what)
        return
    require_issuer(token, None, what)


def authenticate(rt: Runtime, authorization: str | None, scope: Scope) -> TokenView:
    """The token behind ``authorization`` if it grants ``scope`` and, inside a request, may act
    on the issuer the route acts on (:func:`authorize_route`).

    Raises ``INVALID_TOKEN`` (401), ``INSUFFICIENT_SCOPE`` or ``TOKEN_ISSUER_SCOPE`` (403).
    """
    token = verify_token(rt, bearer_secret(authorization), scope)
    if token.issuer is not None and has_request_context():
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        authorize_route(rt, token, rule, request.view_args or {}, request.method)
    return token


def challenge(status: int, *, token_sent: bool, scope: str | None) -> str:
    """The ``WWW-Authenticate`` value for a 401 or 403 answer (RFC 6750 section 3)."""
    if status == 403:
        return f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope or ""}"'
    if token_sent:
        return f'Bearer realm="{REALM}", error="invalid_token"'
    return f'Bearer realm="{REALM}"'
