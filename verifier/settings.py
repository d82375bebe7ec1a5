"""Verifier settings from ``SIJIL_*`` environment variables, as one frozen dataclass.

=============================== ======================================================= ===========
variable                        meaning                                                 default
=============================== ======================================================= ===========
``SIJIL_ALLOW_LOCAL_FETCH``     ``1``: let the fetcher reach loopback over plain HTTP    off
                                (development and tests only; logged as a WARNING)
``SIJIL_FETCH_TIMEOUT``         seconds per network operation                           5
``SIJIL_FETCH_MAX_BYTES``       largest DID document / status list accepted             2 MiB
``SIJIL_KEY_CACHE_TTL``         seconds a resolved DID / controller document is cached  300
``SIJIL_STATUS_CACHE_TTL``      seconds a status list is cached when it has no ``ttl``  300
``SIJIL_TRUST_FILE``            recognised issuers: sijil's ``{"issuers": [...]}`` or a  none
                                DCC issuer registry ``{"registry": {DID: ...}}``; several
                                files separated by ``:`` (most authoritative first)
``SIJIL_TRUST_ANY_ISSUER``      ``1``: start without a trust file even in production;    off
                                every issuer then reads "not recognised" (never "valid")
``SIJIL_ENV``                   ``production``: the page and API refuse to start        development
                                without a trust source (``TRUST_SOURCE_REQUIRED``)
                                unless ``SIJIL_TRUST_ANY_ISSUER=1``
``SIJIL_TRANSFER_POLICY``       default credit-transfer policy file                     none
``SIJIL_TRANSFER_POLICIES_DIR`` folder of published policies (``*.json``, each with a   none
                                ``name``) offered on the ``/credit-transfer`` page
``SIJIL_VERIFIER_OPERATOR``     who runs this verifier, shown in the page's header and  none
                                footer (e.g. ``Universiti Contoh Malaysia``)
``SIJIL_STALE_MAX_AGE``         seconds a last-known DID document / status list may be  604800
                                used when a fresh fetch fails (``0``: never)
``SIJIL_MAX_INPUT_BYTES``       largest credential / image accepted for verification   5 MiB
=============================== ======================================================= ===========

Bounds of one verification (:mod:`verifier.budget`): ``SIJIL_VERIFY_MAX_FETCHES`` (outbound
fetches, default 8), ``SIJIL_VERIFY_DEADLINE`` (seconds of network time, default 10),
``SIJIL_VERIFY_MAX_STATUS_ENTRIES`` (status entries per credential); a fetch over the budget
or past the deadline reads "could not check", never "invalid".

Rate limits (:mod:`webplatform.ratelimit`): ``SIJIL_RATE_LIMITS_ENABLED`` (default ``1``;
a ``VerifierSettings`` built in code without ``from_env`` has them off),
``SIJIL_RATE_LIMIT_VERIFY`` (budget per client over every verifying endpoint, default
``60/minute;1000/hour``), ``SIJIL_RATE_LIMIT_STORAGE_URI`` (``memory://``, or a store shared by
several instances such as ``redis://host:6379``), ``SIJIL_TRUSTED_PROXIES`` (how many reverse
proxies in front are trusted for ``X-Forwarded-For`` / ``-Proto``; default ``0``: ignored).

Reading the environment is the shell's job: :meth:`VerifierSettings.from_env` takes the
mapping (default ``os.environ``), and everything else takes the settings object.

Without a trust source no credential verifies as "valid": a good signature from an unknown
signer reads "signature valid, issuer not recognised" (see :mod:`verifier.trust`).

Errors: ``SETTINGS_ERROR`` for a value of the wrong form, ``TRUST_SOURCE_REQUIRED`` when a
production service would start with no trust source.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from keys.fetch import Fetcher, SafeFetcher
from keys.resolve import Resolver
from webplatform.settings import (
    SettingsError,
    count_setting,
    flag_setting,
    number_setting,
    rate_limit_setting,
)

from .budget import VerificationLimits
from .report import Verifier
from .status import StatusListClient
from .trust import TrustList, load_trust_sources

__all__ = [
    "SettingsError",
    "TrustSourceRequiredError",
    "VerifierSettings",
    "count_setting",
    "flag_setting",
    "rate_limit_setting",
]

log = logging.getLogger(__name__)


class TrustSourceRequiredError(SettingsError):
    """Production without a trust source: every credential would read "not recognised"."""

    code = "TRUST_SOURCE_REQUIRED"
    title = "No trust source for the verifier"


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value) if value else None


def _paths(env: Mapping[str, str], name: str) -> tuple[Path, ...]:
    return tuple(Path(p.strip()) for p in env.get(name, "").split(os.pathsep) if p.strip())


def _limits(env: Mapping[str, str]) -> VerificationLimits:
    return VerificationLimits.from_env(env)


def _env_name(env: Mapping[str, str]) -> str:
    value = env.get("SIJIL_ENV", "").strip().lower() or "development"
    if value not in ("development", "production"):
        raise SettingsError(f"SIJIL_ENV must be development or production, not {value!r}")
    return value


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
    #: More trust files after ``trust_file`` (``SIJIL_TRUST_FILE`` with ``:``-separated paths).
    extra_trust_files: tuple[Path, ...] = ()
    #: ``SIJIL_TRUST_ANY_ISSUER``: allowed to run without a trust source (nothing is "valid").
    trust_any_issuer: bool = False
    env: str = "development"
    max_input_bytes: int = 5 * 1024 * 1024
    #: Off when built in code (tests, embedding); :meth:`from_env` (every server) turns it on.
    rate_limits_enabled: bool = False
    rate_limit_verify: str = "60/minute;1000/hour"
    rate_limit_storage_uri: str = "memory://"
    trusted_proxies: int = 0
    #: ``SIJIL_TRANSFER_POLICIES_DIR``: the published policies of the credit-transfer page.
    transfer_policies_dir: Path | None = None
    #: ``SIJIL_VERIFIER_OPERATOR``: who runs this verifier (header and footer of the page).
    operator: str = ""
    #: ``SIJIL_STALE_MAX_AGE``: oldest last-known key document / status list used in an outage.
    stale_max_age: float = 7 * 24 * 3600.0
    #: ``SIJIL_VERIFY_*``: bounds of one verification's outbound work.
    limits: VerificationLimits = field(default_factory=VerificationLimits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VerifierSettings:
        """Settings from ``env`` (default ``os.environ``); raises ``SETTINGS_ERROR``."""
        source = os.environ if env is None else env
        trust_files = _paths(source, "SIJIL_TRUST_FILE")
        return cls(
            allow_local_fetch=flag_setting(source, "SIJIL_ALLOW_LOCAL_FETCH", False),
            fetch_timeout=number_setting(source, "SIJIL_FETCH_TIMEOUT", 5.0),
            fetch_max_bytes=int(number_setting(source, "SIJIL_FETCH_MAX_BYTES", 2 * 1024 * 1024)),
            key_cache_ttl=number_setting(source, "SIJIL_KEY_CACHE_TTL", 300.0),
            status_cache_ttl=number_setting(source, "SIJIL_STATUS_CACHE_TTL", 300.0),
            trust_file=trust_files[0] if trust_files else None,
            extra_trust_files=trust_files[1:],
            trust_any_issuer=flag_setting(source, "SIJIL_TRUST_ANY_ISSUER", False),
            env=_env_name(source),
            transfer_policy=_path(source, "SIJIL_TRANSFER_POLICY"),
            max_input_bytes=int(number_setting(source, "SIJIL_MAX_INPUT_BYTES", 5 * 1024 * 1024)),
            rate_limits_enabled=flag_setting(source, "SIJIL_RATE_LIMITS_ENABLED", True),
            rate_limit_verify=rate_limit_setting(
                source, "SIJIL_RATE_LIMIT_VERIFY", "60/minute;1000/hour"
            ),
            rate_limit_storage_uri=source.get("SIJIL_RATE_LIMIT_STORAGE_URI", "").strip()
            or "memory://",
            trusted_proxies=count_setting(source, "SIJIL_TRUSTED_PROXIES", 0),
            transfer_policies_dir=_path(source, "SIJIL_TRANSFER_POLICIES_DIR"),
            operator=source.get("SIJIL_VERIFIER_OPERATOR", "").strip(),
            stale_max_age=float(count_setting(source, "SIJIL_STALE_MAX_AGE", 7 * 24 * 3600)),
            limits=_limits(source),
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

    @property
    def is_production(self) -> bool:
        """``SIJIL_ENV=production``."""
        return self.env == "production"

    @property
    def trust_files(self) -> tuple[Path, ...]:
        """Every trust file, most authoritative first."""
        first = (self.trust_file,) if self.trust_file is not None else ()
        return first + self.extra_trust_files

    def load_trust(self) -> TrustList | None:
        """The trust files of ``SIJIL_TRUST_FILE`` merged, or ``None`` when there are none."""
        return load_trust_sources(self.trust_files)

    def require_trust_source(self, trust: TrustList | None) -> None:
        """Refuse to serve in production with no trust source (``TRUST_SOURCE_REQUIRED``),
        unless ``SIJIL_TRUST_ANY_ISSUER=1``; warn in development."""
        if trust is not None:
            return
        if self.trust_any_issuer:
            log.warning(
                "SIJIL_TRUST_ANY_ISSUER=1: no trust file; every issuer will read 'signature "
                "valid, issuer not recognised' and no credential will read 'valid'."
            )
            return
        if self.is_production:
            raise TrustSourceRequiredError(
                "SIJIL_ENV=production needs a trust source: set SIJIL_TRUST_FILE to a list of "
                "recognised issuers (sijil's format or a DCC issuer registry), or set "
                "SIJIL_TRUST_ANY_ISSUER=1 to run with every issuer 'not recognised'."
            )
        log.warning(
            "no SIJIL_TRUST_FILE: every issuer will read 'signature valid, issuer not "
            "recognised' and no credential will read 'valid'."
        )

    def build_verifier(
        self, *, trust: TrustList | None = None, fetcher: Fetcher | None = None
    ) -> Verifier:
        """A :class:`verifier.report.Verifier` with caches sized by these settings."""
        fetcher = fetcher if fetcher is not None else self.build_fetcher()
        resolver = Resolver(fetcher, ttl=self.key_cache_ttl, stale_max_age=self.stale_max_age)
        return Verifier(
            resolver=resolver,
            fetcher=fetcher,
            trust=trust if trust is not None else self.load_trust(),
            status_client=StatusListClient(
                fetcher,
                resolver,
                default_ttl=self.status_cache_ttl,
                stale_max_age=self.stale_max_age,
            ),
            limits=self.limits,
        )
