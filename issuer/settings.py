"""Typed issuer settings, read once from ``SIJIL_*`` environment variables.

A frozen dataclass (warehouse / flaskr style): the shells (CLI, Flask app factory, dev server)
call :meth:`Settings.from_env` once and pass the object down; core code and views never read
``os.environ``.

Secrets fail closed: unless ``SIJIL_ENV=development`` says otherwise (the dev server and the test
suite set it explicitly), the issuer is in production and refuses to start without its secret
key, key-store passphrase and verifier URL (``INSECURE_SETTINGS``, with the variable to set).
Development fills those from documented, public dev defaults and logs that it does.

Variables:

- ``SIJIL_INSTANCE_DIR``: folder for the SQLite file, the encrypted key store and other local
  state (default ``./instance``).
- ``SIJIL_DATABASE_URL``: SQLAlchemy URL (default ``sqlite:///<instance>/sijil.db``; PostgreSQL
  as ``postgresql+psycopg://user:pw@host/db``).
- ``SIJIL_BASE_URL``: public base URL used in credential ids, did:web DIDs and status list URLs.
  ``sijil-issuer init`` stores it in the instance; later commands use the stored one when the
  variable is unset and refuse (``BASE_URL_MISMATCH``) when it differs
  (:mod:`issuer.services.instance`). Development only: ``http://localhost:<port>`` when neither
  is there (``SIJIL_PORT`` or the ``port`` argument, default 5000).
- ``SIJIL_KEY_PASSPHRASE``: passphrase of the encrypted key store (required; 12+ characters).
- ``SIJIL_SECRET_KEY``: secret key signing claim links and sessions (required; 16+ characters).
- ``SIJIL_SECRET_KEY_FALLBACKS``: earlier secret keys, comma-separated, still accepted when
  reading claim links (key rotation: links mailed before the rotation keep working).
- ``SIJIL_KEY_PASSPHRASE_FILE`` / ``SIJIL_SECRET_KEY_FILE`` / ``SIJIL_SECRET_KEY_FALLBACKS_FILE``:
  read that secret from a file instead (a mounted secret; one trailing newline dropped).
  Refused when the file is readable by others (``INSECURE_SETTINGS``) or when both the variable
  and its ``_FILE`` form are set.
- ``SIJIL_VERIFIER_URL``: public verifier page that QR codes and share links open (required;
  https in production).
- ``SIJIL_ENV``: ``production`` (the default: secrets required) or ``development``.
- Mail: ``SIJIL_MAIL_FROM``, ``SIJIL_SMTP_HOST`` (none: ``.eml`` files in
  ``<instance>/outbox``, development only), ``SIJIL_SMTP_PORT`` (587), ``SIJIL_SMTP_USERNAME``,
  ``SIJIL_SMTP_PASSWORD`` (or ``_FILE``), ``SIJIL_SMTP_STARTTLS`` (1).
- Rate limits of the public endpoints (:mod:`issuer.web.ratelimit`):
  ``SIJIL_RATE_LIMITS_ENABLED`` (default ``1``; off in a ``Settings`` built in code);
  ``SIJIL_RATE_LIMIT_CLAIM_REQUEST`` (``POST /claim/request`` per client, default
  ``5/minute;30/hour``); ``SIJIL_RATE_LIMIT_CLAIM_EMAIL`` (the same per e-mail address, default
  ``2/minute;6/hour``); ``SIJIL_RATE_LIMIT_CLAIM`` (claim pages and downloads per client, default
  ``60/minute;1000/hour``); ``SIJIL_RATE_LIMIT_PUBLIC`` (credentials, DID documents, status
  lists, context per client, default ``300/minute;10000/hour``); ``SIJIL_RATE_LIMIT_STORAGE_URI``
  (``memory://`` or a shared store such as ``redis://host:6379``); ``SIJIL_TRUSTED_PROXIES``
  (reverse proxies trusted for ``X-Forwarded-For`` / ``-Proto``, default ``0``).
- ``SIJIL_ISSUE_WORKERS``: worker processes signing and self-verifying in large evaluation runs
  (default: one per core when there are several, else ``0``: all in the issuing process).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from contexts.errors import MalformedValueError, SijilError
from webplatform.settings import count_setting, flag_setting, rate_limit_setting

__all__ = [
    "DEFAULT_PORT",
    "DEV_KEY_PASSPHRASE",
    "DEV_SECRET_KEY",
    "DEV_VERIFIER_URL",
    "InsecureSettingsError",
    "Settings",
    "read_secret",
]

log = logging.getLogger(__name__)

DEFAULT_PORT = 5000
#: Dev-only secrets: anyone reading this file knows them, so production refuses them.
DEV_KEY_PASSPHRASE = "sijil-dev-key-passphrase-NOT-FOR-PRODUCTION"  # noqa: S105
DEV_SECRET_KEY = "sijil-dev-secret-key-NOT-FOR-PRODUCTION"  # noqa: S105
#: The dev server's verifier (``python3 dev.py run``); development only.
DEV_VERIFIER_URL = "http://127.0.0.1:5001"
_MIN_PASSPHRASE = 12
_MIN_SECRET_KEY = 16

Environment = Literal["development", "production"]


class InsecureSettingsError(SijilError):
    """A required secret or URL is missing, a dev default, too short, or otherwise unsafe."""

    code = "INSECURE_SETTINGS"
    title = "Insecure settings"
    http_status = 500


def read_secret(env_vars: Mapping[str, str], name: str) -> str:
    """The secret in ``name``, or in the file named by ``name + "_FILE"`` ("" when neither).

    The file form is for mounted secrets (Kubernetes, Docker): it must not be readable by
    others (``INSECURE_SETTINGS``); one trailing newline is dropped. Setting both forms is
    ``MALFORMED_VALUE_ERROR``, as is a file that cannot be read.
    """
    value = env_vars.get(name) or ""
    path_text = (env_vars.get(f"{name}_FILE") or "").strip()
    if not path_text:
        return value
    if value:
        raise MalformedValueError(f"set {name} or {name}_FILE, not both")
    path = Path(path_text)
    try:
        if path.stat().st_mode & 0o007:
            raise InsecureSettingsError(
                f"{name}_FILE {path} is readable by others; chmod 0400 or 0440 (or set the "
                "secret volume's mode)"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedValueError(
            f"{name}_FILE {path} cannot be read ({type(exc).__name__})"
        ) from None
    return text.removesuffix("\n").removesuffix("\r")


def _default_workers() -> int:
    """One signing worker per core when there are several (the issuing process shares them:
    it waits while an MMS's COAs are signed); none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores is not None and cores > 1 else 0


@dataclass(frozen=True)
class Settings:
    """Everything the issuer needs to know about its deployment."""

    instance_dir: Path
    database_url: str
    base_url: str
    key_passphrase: str
    secret_key: str
    env: Environment = "development"
    #: whether ``base_url`` was given (``SIJIL_BASE_URL``, or in code) rather than a default;
    #: a given one must match the instance's stored base URL, a default gives way to it.
    base_url_given: bool = True
    #: earlier secret keys still accepted for claim links (newest first).
    secret_key_fallbacks: tuple[str, ...] = ()
    verifier_url: str = DEV_VERIFIER_URL
    mail_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    #: names of the variables that fell back to a dev default (empty in production).
    dev_defaults: tuple[str, ...] = ()
    #: Off when built in code (tests); :meth:`from_env` (every server) turns it on.
    rate_limits_enabled: bool = False
    rate_limit_claim_request: str = "5/minute;30/hour"
    rate_limit_claim_email: str = "2/minute;6/hour"
    rate_limit_claim: str = "60/minute;1000/hour"
    rate_limit_public: str = "300/minute;10000/hour"
    rate_limit_storage_uri: str = "memory://"
    trusted_proxies: int = 0
    #: mail learners a claim link when awards are issued (``SIJIL_NOTIFY_LEARNERS``, default 1).
    notify_learners: bool = True
    #: worker processes that sign and self-verify during a large evaluation run
    #: (``SIJIL_ISSUE_WORKERS``; from the environment the default is one per core when there
    #: are several, else 0; 0: everything in the issuing process, as built in code).
    issue_workers: int = 0

    @property
    def is_production(self) -> bool:
        """Whether this is a production deployment."""
        return self.env == "production"

    @property
    def keys_dir(self) -> Path:
        """Folder of the encrypted key store."""
        return self.instance_dir / "keys"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, port: int | None = None
    ) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``).

        Raises ``INSECURE_SETTINGS`` outside ``SIJIL_ENV=development`` when the secret key, the
        key passphrase or the verifier URL is missing, a dev default or too weak (or the base
        URL is not https), ``MALFORMED_VALUE_ERROR`` for an unknown ``SIJIL_ENV`` or an unusable
        ``_FILE``, and ``SETTINGS_ERROR`` for a number or flag of the wrong form.
        """
        env_vars = os.environ if environ is None else environ
        raw_env = env_vars.get("SIJIL_ENV", "").strip().lower() or "production"
        if raw_env not in ("development", "production"):
            raise MalformedValueError(
                f"SIJIL_ENV must be 'development' or 'production', not {raw_env!r}"
            )
        env: Environment = "development" if raw_env == "development" else "production"
        development = env == "development"
        instance_dir = Path(env_vars.get("SIJIL_INSTANCE_DIR") or "instance").resolve()
        if port is None:
            port = count_setting(env_vars, "SIJIL_PORT", DEFAULT_PORT)
        database_url = env_vars.get("SIJIL_DATABASE_URL") or f"sqlite:///{instance_dir}/sijil.db"
        given_base = (env_vars.get("SIJIL_BASE_URL") or "").strip().rstrip("/")
        # Production without SIJIL_BASE_URL: "" until the instance's stored one fills it in.
        base_url = given_base or (f"http://localhost:{port}" if development else "")
        defaults: list[str] = []
        missing: list[str] = []

        def required(name: str, dev_default: str) -> str:
            value = read_secret(env_vars, name)
            if value:
                return value
            if development:
                defaults.append(name)
                return dev_default
            missing.append(name)
            return ""

        passphrase = required("SIJIL_KEY_PASSPHRASE", DEV_KEY_PASSPHRASE)
        secret_key = required("SIJIL_SECRET_KEY", DEV_SECRET_KEY)
        verifier_url = required("SIJIL_VERIFIER_URL", DEV_VERIFIER_URL).strip().rstrip("/")
        if missing:
            raise InsecureSettingsError(
                f"{', '.join(missing)} not set: the issuer refuses to start without "
                f"{'it' if len(missing) == 1 else 'them'} (set each, or its _FILE form; for "
                "local development only, set SIJIL_ENV=development to use public dev defaults)"
            )
        fallbacks = tuple(
            key.strip()
            for key in read_secret(env_vars, "SIJIL_SECRET_KEY_FALLBACKS").split(",")
            if key.strip()
        )
        settings = cls(
            instance_dir=instance_dir,
            database_url=database_url,
            base_url=base_url,
            key_passphrase=passphrase,
            secret_key=secret_key,
            env=env,
            dev_defaults=tuple(defaults),
            base_url_given=bool(given_base),
            secret_key_fallbacks=fallbacks,
            verifier_url=verifier_url,
            mail_from=env_vars.get("SIJIL_MAIL_FROM", "").strip(),
            smtp_host=env_vars.get("SIJIL_SMTP_HOST", "").strip(),
            smtp_port=count_setting(env_vars, "SIJIL_SMTP_PORT", 587),
            smtp_username=env_vars.get("SIJIL_SMTP_USERNAME", "").strip(),
            smtp_password=read_secret(env_vars, "SIJIL_SMTP_PASSWORD"),
            smtp_starttls=flag_setting(env_vars, "SIJIL_SMTP_STARTTLS", True),
            rate_limits_enabled=flag_setting(env_vars, "SIJIL_RATE_LIMITS_ENABLED", True),
            rate_limit_claim_request=rate_limit_setting(
                env_vars, "SIJIL_RATE_LIMIT_CLAIM_REQUEST", "5/minute;30/hour"
            ),
            rate_limit_claim_email=rate_limit_setting(
                env_vars, "SIJIL_RATE_LIMIT_CLAIM_EMAIL", "2/minute;6/hour"
            ),
            rate_limit_claim=rate_limit_setting(
                env_vars, "SIJIL_RATE_LIMIT_CLAIM", "60/minute;1000/hour"
            ),
            rate_limit_public=rate_limit_setting(
                env_vars, "SIJIL_RATE_LIMIT_PUBLIC", "300/minute;10000/hour"
            ),
            rate_limit_storage_uri=env_vars.get("SIJIL_RATE_LIMIT_STORAGE_URI", "").strip()
            or "memory://",
            trusted_proxies=count_setting(env_vars, "SIJIL_TRUSTED_PROXIES", 0),
            notify_learners=flag_setting(env_vars, "SIJIL_NOTIFY_LEARNERS", True),
            issue_workers=count_setting(env_vars, "SIJIL_ISSUE_WORKERS", _default_workers()),
        )
        settings.check()
        if settings.dev_defaults:
            log.warning(
                "sijil issuer in development mode: using dev defaults for %s (never in production)",
                ", ".join(settings.dev_defaults),
            )
        return settings

    def check(self) -> None:
        """Refuse unsafe production settings (``INSECURE_SETTINGS``, naming the variable)."""
        if not self.is_production:
            return
        if self.key_passphrase == DEV_KEY_PASSPHRASE or len(self.key_passphrase) < _MIN_PASSPHRASE:
            raise InsecureSettingsError(
                f"production needs SIJIL_KEY_PASSPHRASE set to a secret of {_MIN_PASSPHRASE}+ "
                "characters"
            )
        for name, key in [
            ("SIJIL_SECRET_KEY", self.secret_key),
            *(("SIJIL_SECRET_KEY_FALLBACKS", k) for k in self.secret_key_fallbacks),
        ]:
            if key == DEV_SECRET_KEY or len(key) < _MIN_SECRET_KEY:
                raise InsecureSettingsError(
                    f"production needs {name} set to secrets of {_MIN_SECRET_KEY}+ characters"
                )
        if self.base_url and not self.base_url.startswith("https://"):
            raise InsecureSettingsError("production needs an https:// SIJIL_BASE_URL")
        if not self.verifier_url.startswith("https://"):
            raise InsecureSettingsError("production needs an https:// SIJIL_VERIFIER_URL")
