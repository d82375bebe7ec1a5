"""Rate limits for the public HTTP endpoints of both services (Flask-Limiter).

Each app declares a :class:`RateLimitPolicy`: which endpoints are limited, by what key (the
client address, or any other request-derived key such as a hashed e-mail address) and to what
budget (a Flask-Limiter limit string such as ``"60/minute;1000/hour"``, all parts enforced).
Endpoints not named by a rule are never limited: static files, ``/healthz``, ``/readyz`` and
``/metrics`` stay reachable for load balancers and scrapers whatever a client does.

Endpoints named in one rule share its budget (the rule's ``scope`` is the bucket), so a client
cannot multiply its allowance by spreading requests over sibling endpoints.

A limited request answers ``429`` with our stable code ``RATE_LIMITED`` through the app's own
:class:`~contexts.errors.SijilError` handler (``application/problem+json`` on the APIs), a
``Retry-After`` header (seconds) and ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``
headers; answers that pass carry the ``X-RateLimit-*`` headers too.

Counters live in ``storage_uri``: ``memory://`` (one process; the default) or a store shared by
several instances (``redis://host:6379``, ``memcached://``, ...: any URI the ``limits`` package
accepts, with its client library installed). When a shared store is unreachable the limiter
falls back to in-memory counters per process and logs it, rather than failing requests.

The client address is ``request.remote_addr``. Behind ``trusted_proxies`` reverse proxies
(``SIJIL_TRUSTED_PROXIES``) the app is wrapped in Werkzeug's ``ProxyFix`` so the address is the
one the outermost trusted proxy saw (``X-Forwarded-For``) and the scheme is its
``X-Forwarded-Proto``; with ``0`` (the default) those headers are ignored, so clients cannot
forge their address. IPv6 clients are keyed by their ``/64`` network, since one host usually
controls a whole ``/64``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, cast

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter, RateLimitExceeded
from limits.errors import ConfigurationError
from werkzeug.middleware.proxy_fix import ProxyFix

from contexts.errors import SijilError
from webplatform.settings import SettingsError

__all__ = [
    "DEFAULT_STORAGE_URI",
    "LIMITER_EXTENSION",
    "LimitRule",
    "RateLimitPolicy",
    "RateLimitedError",
    "client_key",
    "hashed_key",
    "install_rate_limits",
]

log = logging.getLogger(__name__)

DEFAULT_STORAGE_URI: Final = "memory://"
#: Where :func:`install_rate_limits` keeps the app's :class:`~flask_limiter.Limiter`.
LIMITER_EXTENSION: Final = "sijil.limiter"
_IPV6_CLIENT_PREFIX: Final = 64


class RateLimitedError(SijilError):
    """A client went over a rate limit (HTTP 429; retry after ``Retry-After`` seconds)."""

    code = "RATE_LIMITED"
    title = "Too many requests"
    http_status = 429


def client_key() -> str:
    """The rate-limit key of the requesting client: its address, IPv6 grouped by ``/64``.

    ``request.remote_addr`` is the peer address, or the forwarded one when the app trusts its
    proxies (see the module docstring). Never raises: an unreadable address is its own key.
    """
    raw = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return f"client:{raw}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"client:{address.ipv4_mapped}"
        network = ipaddress.IPv6Network((address, _IPV6_CLIENT_PREFIX), strict=False)
        return f"client:{network}"
    return f"client:{address}"


def hashed_key(kind: str, value: str) -> str:
    """A storage key for a personal value (an e-mail address) that does not reveal it.

    The value is trimmed and case-folded first, so ``A@x`` and ``a@x `` share one budget.
    """
    digest = hashlib.sha256(value.strip().casefold().encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


@dataclass(frozen=True)
class LimitRule:
    """One budget: ``limits`` (e.g. ``"5/minute;30/hour"``) per ``key()`` over ``endpoints``.

    ``scope`` names the shared bucket; two rules over one endpoint (per client and per e-mail
    address) must have different scopes. ``key`` must never raise.
    """

    scope: str
    limits: str
    endpoints: tuple[str, ...]
    key: Callable[[], str] = client_key


@dataclass(frozen=True)
class RateLimitPolicy:
    """What :func:`install_rate_limits` applies to one app."""

    enabled: bool = True
    storage_uri: str = DEFAULT_STORAGE_URI
    trusted_proxies: int = 0
    rules: tuple[LimitRule, ...] = field(default=())


def _redacted(uri: str) -> str:
    """``uri`` without a password (``redis://:secret@host`` -> ``redis://:***@host``)."""
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at:
        return uri
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _too_many_requests(err: RateLimitExceeded) -> ResponseReturnValue:
    # Render through the app's own SijilError handler, so the 429 looks like every other
    # error of that app (problem+json on the APIs, the error page on the verifier's pages).
    problem = RateLimitedError(
        f"rate limit exceeded ({err.description}); retry after the Retry-After delay"
    )
    return current_app.handle_user_exception(problem)


def install_rate_limits(app: Flask, policy: RateLimitPolicy) -> Limiter | None:
    """Apply ``policy`` to ``app`` (after its blueprints are registered); the limiter or
    ``None`` when limits are off.

    Raises ``SETTINGS_ERROR`` for a storage URI it cannot use (unknown scheme, client library
    not installed), at startup rather than on the first request, and ``KeyError`` for a rule
    naming an endpoint the app does not have (a programming error, caught by the tests).
    """
    if policy.trusted_proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=policy.trusted_proxies, x_proto=policy.trusted_proxies
        )
    if not policy.enabled:
        log.info("rate limits are off (SIJIL_RATE_LIMITS_ENABLED=0)")
        return None
    shared_store = not policy.storage_uri.startswith("memory://")
    limiter = Limiter(
        client_key,
        storage_uri=policy.storage_uri,
        strategy="moving-window",
        headers_enabled=True,
        retry_after="delta-seconds",
        key_prefix="sijil",
        # A shared store that goes away must not take the service down with it.
        swallow_errors=shared_store,
        in_memory_fallback_enabled=shared_store,
    )
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        shown = _redacted(policy.storage_uri)
        reason = str(exc).replace(policy.storage_uri, shown)
        raise SettingsError(
            f"SIJIL_RATE_LIMIT_STORAGE_URI {shown!r} is not usable: {reason}"
        ) from None
    for rule in policy.rules:
        shared = limiter.shared_limit(rule.limits, scope=rule.scope, key_func=rule.key)
        for endpoint in rule.endpoints:
            view = cast(Callable[..., ResponseReturnValue], app.view_functions[endpoint])
            app.view_functions[endpoint] = shared(view)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    app.extensions[LIMITER_EXTENSION] = limiter
    return limiter
