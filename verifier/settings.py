"""Verifier settings from ``SIJIL_*`` environment variables, as one frozen dataclass.

=============================== ======================================================= =======
variable                        meaning                                                 default
=============================== ======================================================= =======
``SIJIL_ALLOW_LOCAL_FETCH``     ``1``: let the fetcher reach loopback over plain HTTP    off
                                (development and tests only; logged as a WARNING)
``SIJIL_FETCH_TIMEOUT``         seconds per network operation                           5
``SIJIL_FETCH_MAX_BYTES``       largest DID document / status list accepted             2 MiB
``SIJIL_KEY_CACHE_TTL``         seconds a resolved DID / controller document is cached  300
``SIJIL_STATUS_CACHE_TTL``      seconds a status list is cached when it has no ``ttl``  300
``SIJIL_TRUST_FILE``            recognised issuers, ``{"issuers": [{"id", "name"}]}``   none
``SIJIL_TRANSFER_POLICY``       default credit-transfer policy file                     none
``SIJIL_MAX_INPUT_BYTES``       largest credential / image accepted for verification   5 MiB
=============================== ======================================================= =======

Rate limits (:mod:`verifier.web.ratelimit`): ``SIJIL_RATE_LIMITS_ENABLED`` (default ``1``;
a ``VerifierSettings`` built in code without ``from_env`` has them off),
``SIJIL_RATE_LIMIT_VERIFY`` (budget per client over every verifying endpoint, default
``60/minute;1000/hour``), ``SIJIL_RATE_LIMIT_STORAGE_URI`` (``memory://``, or a store shared by
several instances such as ``redis://host:6379``), ``SIJIL_TRUSTED_PROXIES`` (how many reverse
proxies in front are trusted for ``X-Forwarded-For`` / ``-Proto``; default ``0``: ignored).

Reading the environment is the shell's job: :meth:`VerifierSettings.from_env` takes the
mapping (default ``os.environ``), and everything else takes the settings object.

Errors: ``SETTINGS_ERROR`` for a value of the wrong form.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contexts.errors import SijilError
from keys.fetch import Fetcher, SafeFetcher
from keys.resolve import Resolver

from .report import Verifier
from .status import StatusListClient
from .trust import TrustList, load_trust_list

__all__ = [
    "SettingsError",
    "VerifierSettings",
    "count_setting",
    "flag_setting",
    "rate_limit_setting",
]

log = logging.getLogger(__name__)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class SettingsError(SijilError):
    """A ``SIJIL_*`` variable has a value of the wrong form."""

    code = "SETTINGS_ERROR"
    title = "Invalid setting"
    http_status = 500


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {value!r}")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{name} must be positive")
    return number


def rate_limit_setting(env: Mapping[str, str], name: str, default: str) -> str:
    """A Flask-Limiter limit string (``"60/minute;1000/hour"``) from ``env``; ``SETTINGS_ERROR``
    when it does not parse or is empty after trimming (used by both services' settings)."""
    from limits import parse_many

    value = env.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError:
        raise SettingsError(f"{name} must be a limit such as '60/minute;1000/hour'") from None
    return value


def count_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number >= 0 from ``env``; ``SETTINGS_ERROR`` otherwise."""
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise SettingsError(f"{name} must be a whole number >= 0, not {value!r}")
    return int(value)


def flag_setting(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A ``1``/``0`` flag from ``env`` that defaults to ``default`` when unset."""
    if not env.get(name, "").strip():
        return default
    return _flag(env, name)


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value) if value else None


@dataclass(frozen=True)
class VerifierSettings:
    """Everything configurable about the verifier (see the module docstring)."""

    allow_local_fetch: bool = False
    fetch_timeout: float = 5.0
    fetch_max_bytes: int = 2 * 1024 * 1024
    key_cache_ttl: float = 300.0
    status_cache_ttl: float = 300.0
    trust_file: Path | None = None
    transfer_policy: Path | None = None
    max_input_bytes: int = 5 * 1024 * 1024
    #: Off when built in code (tests, embedding); :meth:`from_env` (every server) turns it on.
    rate_limits_enabled: bool = False
    rate_limit_verify: str = "60/minute;1000/hour"
    rate_limit_storage_uri: str = "memory://"
    trusted_proxies: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VerifierSettings:
        """Settings from ``env`` (default ``os.environ``); raises ``SETTINGS_ERROR``."""
        source = os.environ if env is None else env
        return cls(
            allow_local_fetch=_flag(source, "SIJIL_ALLOW_LOCAL_FETCH"),
            fetch_timeout=_number(source, "SIJIL_FETCH_TIMEOUT", 5.0),
            fetch_max_bytes=int(_number(source, "SIJIL_FETCH_MAX_BYTES", 2 * 1024 * 1024)),
            key_cache_ttl=_number(source, "SIJIL_KEY_CACHE_TTL", 300.0),
            status_cache_ttl=_number(source, "SIJIL_STATUS_CACHE_TTL", 300.0),
            trust_file=_path(source, "SIJIL_TRUST_FILE"),
            transfer_policy=_path(source, "SIJIL_TRANSFER_POLICY"),
            max_input_bytes=int(_number(source, "SIJIL_MAX_INPUT_BYTES", 5 * 1024 * 1024)),
            rate_limits_enabled=flag_setting(source, "SIJIL_RATE_LIMITS_ENABLED", True),
            rate_limit_verify=rate_limit_setting(
                source, "SIJIL_RATE_LIMIT_VERIFY", "60/minute;1000/hour"
            ),
            rate_limit_storage_uri=source.get("SIJIL_RATE_LIMIT_STORAGE_URI", "").strip()
            or "memory://",
            trusted_proxies=count_setting(source, "SIJIL_TRUSTED_PROXIES", 0),
        )

    def build_fetcher(self) -> SafeFetcher:
        """The SSRF-guarded fetcher; loudly logs when loopback over HTTP is allowed."""
        if self.allow_local_fetch:
            log.warning(
                "SIJIL_ALLOW_LOCAL_FETCH=1: the verifier will fetch keys and status lists from "
                "loopback addresses over plain HTTP. Development and tests only, never production."
            )
        return SafeFetcher(
            timeout=self.fetch_timeout,
            max_bytes=self.fetch_max_bytes,
            allow_local=self.allow_local_fetch,
        )

    def load_trust(self) -> TrustList | None:
        """The trust list named by ``SIJIL_TRUST_FILE``, or ``None``."""
        return load_trust_list(self.trust_file) if self.trust_file is not None else None

    def build_verifier(
        self, *, trust: TrustList | None = None, fetcher: Fetcher | None = None
    ) -> Verifier:
        """A :class:`verifier.report.Verifier` with caches sized by these settings."""
        fetcher = fetcher if fetcher is not None else self.build_fetcher()
        resolver = Resolver(fetcher, ttl=self.key_cache_ttl)
        return Verifier(
            resolver=resolver,
            fetcher=fetcher,
            trust=trust if trust is not None else self.load_trust(),
            status_client=StatusListClient(fetcher, resolver, default_ttl=self.status_cache_ttl),
        )
