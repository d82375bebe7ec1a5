"""Staff sign-in through the university's OpenID Connect provider (Entra ID, Google Workspace,
Keycloak...): discovery, authorization code flow with PKCE (S256), ``state`` and ``nonce``, and
ID token validation with jwcrypto against the provider's JWKS.

Settings (environment, read by the web shell): ``SIJIL_OIDC_ISSUER`` (the provider's issuer
URL; unset = sign-in by one-time link only), ``SIJIL_OIDC_CLIENT_ID``,
``SIJIL_OIDC_CLIENT_SECRET``, ``SIJIL_OIDC_SCOPES`` (default ``openid email profile``) and
``SIJIL_OIDC_ROLES``, a JSON object mapping people to roles, most specific first::

    {"emails": {"dean@uni.edu.my": "admin"},
     "groups": {"registry-office": "registrar", "audit": "auditor"},
     "domains": {"uni.edu.my": "viewer"}}

(``groups`` reads the ID token's ``groups`` claim). A person no rule maps keeps the role of an
existing staff account with that e-mail; anyone else is refused (``OIDC_USER_NOT_MAPPED``).

Discovery, the JWKS and the token request (a form POST) all go through
:class:`keys.fetch.SafeFetcher`: ``https`` only, every address checked and connected to as
checked, deadlines and a body cap; the token endpoint may not redirect. ``allow_local`` (tests
only) admits plain http on loopback.

Errors: ``OIDC_NOT_CONFIGURED`` (404), ``OIDC_STATE_MISMATCH`` (400), ``OIDC_PROVIDER_ERROR``
(502: discovery, token endpoint or an error answer), ``OIDC_ID_TOKEN_INVALID`` (401: signature,
issuer, expiry), ``OIDC_AUDIENCE_MISMATCH`` (401), ``OIDC_NONCE_MISMATCH`` (401),
``OIDC_USER_NOT_MAPPED`` (403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException

from contexts.errors import MalformedValueError, SijilError
from issuer.console.roles import Role, parse_role
from keys.fetch import Fetcher, FetchError, SafeFetcher

__all__ = [
    "OIDC_EXTENSION",
    "AuthRequest",
    "Discovery",
    "OidcAudienceError",
    "OidcIdTokenError",
    "OidcNonceError",
    "OidcNotConfiguredError",
    "OidcProviderError",
    "OidcSettings",
    "OidcStateError",
    "OidcUserNotMappedError",
    "begin",
    "check_state",
    "discover",
    "exchange_code",
    "map_role",
    "validate_id_token",
]

#: Where the web shell keeps the :class:`OidcSettings` in ``app.extensions``.
OIDC_EXTENSION: Final = "sijil.console.oidc"
#: ID token signature algorithms accepted (never ``none``, never HMAC with a public secret).
ALGORITHMS: Final = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                     "EdDSA"]  # fmt: skip
CLOCK_SKEW: Final = timedelta(minutes=2)


class OidcNotConfiguredError(SijilError):
    """Single sign-on is not configured on this issuer."""

    code = "OIDC_NOT_CONFIGURED"
    title = "Single sign-on is not configured"
    http_status = 404


class OidcStateError(SijilError):
    """The answer does not belong to a sign-in this browser started (CSRF, replay)."""

    code = "OIDC_STATE_MISMATCH"
    title = "This sign-in answer does not match a sign-in you started"
    http_status = 400


class OidcProviderError(SijilError):
    """The provider could not be reached, answered an error, or answered nonsense."""

    code = "OIDC_PROVIDER_ERROR"
    title = "The sign-in provider failed"
    http_status = 502


class OidcIdTokenError(SijilError):
    """The ID token's signature, issuer or lifetime is wrong."""

    code = "OIDC_ID_TOKEN_INVALID"
    title = "The sign-in provider's ID token is not valid"
    http_status = 401


class OidcAudienceError(SijilError):
    """The ID token was issued to another client."""

    code = "OIDC_AUDIENCE_MISMATCH"
    title = "The ID token was issued to another application"
    http_status = 401


class OidcNonceError(SijilError):
    """The ID token's nonce is not the one this sign-in sent (a replayed or injected token)."""

    code = "OIDC_NONCE_MISMATCH"
    title = "The ID token does not belong to this sign-in"
    http_status = 401


class OidcUserNotMappedError(SijilError):
    """No rule maps this person to a console role."""

    code = "OIDC_USER_NOT_MAPPED"
    title = "Your account has no access to the staff console"
    http_status = 403


@dataclass(frozen=True)
class OidcSettings:
    """The provider and how its users map to roles."""

    issuer: str
    client_id: str
    client_secret: str
    roles: Mapping[str, Any] = field(default_factory=dict)
    scopes: str = "openid email profile"
    #: plain http and loopback addresses allowed (tests only).
    allow_local: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcSettings | None:
        """From ``SIJIL_OIDC_*`` (``None`` when ``SIJIL_OIDC_ISSUER`` is unset).

        Raises ``MALFORMED_VALUE_ERROR`` for an unusable ``SIJIL_OIDC_ROLES`` or a missing
        client id."""
        issuer = environ.get("SIJIL_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            return None
        try:
            roles = json.loads(environ.get("SIJIL_OIDC_ROLES", "") or "{}")
        except ValueError as exc:
            raise MalformedValueError(f"SIJIL_OIDC_ROLES is not JSON: {exc}") from exc
        settings = cls(
            issuer=issuer,
            client_id=environ.get("SIJIL_OIDC_CLIENT_ID", "").strip(),
            client_secret=environ.get("SIJIL_OIDC_CLIENT_SECRET", "").strip(),
            roles=roles if isinstance(roles, dict) else {},
            scopes=environ.get("SIJIL_OIDC_SCOPES", "").strip() or "openid email profile",
        )
        if not isinstance(roles, dict):
            raise MalformedValueError("SIJIL_OIDC_ROLES must be a JSON object")
        if not settings.client_id:
            raise MalformedValueError("SIJIL_OIDC_CLIENT_ID is required with SIJIL_OIDC_ISSUER")
        for kind in ("emails", "groups", "domains"):
            for role in dict(roles.get(kind) or {}).values():
                parse_role(str(role))
        return settings


@dataclass(frozen=True)
class Discovery:
    """The provider metadata the code flow needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def discover(fetcher: Fetcher, issuer: str) -> Discovery:
    """Read ``{issuer}/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4);
    its ``issuer`` must equal ``issuer`` exactly (§4.3). Raises ``OIDC_PROVIDER_ERROR``."""
    try:
        doc = fetcher.get_json(f"{issuer}/.well-known/openid-configuration")
    except FetchError as exc:
        raise OidcProviderError(f"discovery failed: {exc.detail}") from exc
    if not isinstance(doc, Mapping) or doc.get("issuer") != issuer:
        raise OidcProviderError("the discovery document names another issuer")
    values = [doc.get(k) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    if not all(isinstance(v, str) and v for v in values):
        raise OidcProviderError("the discovery document lacks an endpoint")
    return Discovery(issuer, *cast(list[str], values))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AuthRequest:
    """A started sign-in: where to send the browser, and what to remember in the session."""

    url: str
    state: str
    nonce: str
    verifier: str


def begin(settings: OidcSettings, discovery: Discovery, redirect_uri: str) -> AuthRequest:
    """A new authorization request (RFC 6749 §4.1.1 with PKCE S256, RFC 7636 §4.2, and an
    OpenID Connect ``nonce``), fresh random ``state``, ``nonce`` and code verifier."""
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": settings.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode("ascii")).digest()),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in discovery.authorization_endpoint else "?"
    return AuthRequest(
        f"{discovery.authorization_endpoint}{separator}{query}", state, nonce, verifier
    )


def check_state(expected: str | None, given: str | None) -> None:
    """Raise ``OIDC_STATE_MISMATCH`` unless ``given`` is the state this browser's sign-in sent."""
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise OidcStateError("no sign-in with this state was started in this browser")


def exchange_code(
    settings: OidcSettings,
    discovery: Discovery,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    fetcher: SafeFetcher,
) -> str:
    """POST the code to the token endpoint (client_secret_basic, RFC 6749 §4.1.3) through
    ``fetcher`` (the address policy, pinned connection, deadline and body cap of every
    outbound request; redirects refused); returns the ID token. Raises
    ``OIDC_PROVIDER_ERROR``."""
    quoted = ":".join(
        urllib.parse.quote(v, safe="") for v in (settings.client_id, settings.client_secret)
    )
    try:
        response = fetcher.post_form(
            discovery.token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "client_id": settings.client_id,
            },
            headers={
                "Authorization": "Basic " + base64.b64encode(quoted.encode("utf-8")).decode("ascii")
            },
        )
    except FetchError as exc:
        raise OidcProviderError(f"token endpoint unreachable: {exc.detail}") from exc
    if not 200 <= response.status < 300:
        detail = response.body[:2000].decode("utf-8", "replace")
        raise OidcProviderError(f"token endpoint answered {response.status}: {detail}")
    try:
        answer = json.loads(response.body)
    except (ValueError, RecursionError) as exc:
        raise OidcProviderError("token endpoint answered non-JSON") from exc
    token = answer.get("id_token") if isinstance(answer, dict) else None
    if not isinstance(token, str):
        raise OidcProviderError("token endpoint answered no id_token")
    return token


def _numeric(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OidcIdTokenError(f"the ID token's {name} claim is missing or not a number")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise OidcIdTokenError(f"the ID token's {name} claim is out of range") from exc


def validate_id_token(
    token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    at: datetime,
) -> dict[str, Any]:
    """The ID token's claims after OpenID Connect Core 1.0 §3.1.3.7: signature by a key of
    ``jwks`` with an asymmetric algorithm, ``iss`` equal to ``issuer``, ``aud`` containing
    ``client_id`` (and ``azp`` equal to it when there are several audiences), ``exp`` in the
    future and ``iat`` not in the future (with :data:`CLOCK_SKEW`), ``nonce`` equal to
    ``nonce``.

    Raises ``OIDC_ID_TOKEN_INVALID``, ``OIDC_AUDIENCE_MISMATCH``, ``OIDC_NONCE_MISMATCH``.
    """
    try:
        keyset = jwk.JWKSet.from_json(json.dumps(dict(jwks)))
        parsed = jwt.JWT(jwt=token, key=keyset, algs=list(ALGORITHMS), check_claims=False)
        claims = json.loads(parsed.claims)
    except (JWException, jws.InvalidJWSSignature, jwk.InvalidJWKValue, ValueError) as exc:
        raise OidcIdTokenError(f"the ID token's signature does not verify: {exc}") from exc
    if not isinstance(claims, dict):
        raise OidcIdTokenError("the ID token's claims are not a JSON object")
    if claims.get("iss") != issuer:
        raise OidcIdTokenError(f"the ID token was issued by {claims.get('iss')!r}, not {issuer}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise OidcAudienceError(f"the ID token is for {audience!r}, not {client_id!r}")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcAudienceError("the ID token has several audiences and another azp")
    if _numeric(claims, "exp") + CLOCK_SKEW < at:
        raise OidcIdTokenError("the ID token has expired")
    if _numeric(claims, "iat") - CLOCK_SKEW > at:
        raise OidcIdTokenError("the ID token was issued in the future")
    given = claims.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given, nonce):
        raise OidcNonceError("the ID token's nonce is not this sign-in's")
    return claims


def map_role(roles: Mapping[str, Any], claims: Mapping[str, Any]) -> Role | None:
    """The role ``roles`` (``SIJIL_OIDC_ROLES``) gives the person of ``claims``: by e-mail, then
    group, then e-mail domain; ``None`` when no rule applies or the e-mail is not verified."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        return None
    address = email.strip().lower()
    emails = {str(k).lower(): str(v) for k, v in dict(roles.get("emails") or {}).items()}
    if address in emails:
        return parse_role(emails[address])
    groups = dict(roles.get("groups") or {})
    claimed = claims.get("groups")
    for group in claimed if isinstance(claimed, list) else []:
        if isinstance(group, str) and group in groups:
            return parse_role(str(groups[group]))
    domains = {str(k).lower(): str(v) for k, v in dict(roles.get("domains") or {}).items()}
    domain = address.rsplit("@", 1)[1]
    if domain in domains:
        return parse_role(domains[domain])
    return None
