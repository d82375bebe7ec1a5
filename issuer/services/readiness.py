"""Is this instance ready to serve: database, key store and clock, each checked for real.

:func:`check_readiness` answers ``ready``, ``degraded`` (serving, but an operator should look:
signing with the previous key because the active key file has not arrived) or ``not_ready``:

- **database**: a query reads the default issuer (``DATABASE_UNAVAILABLE``, ``DISK_FULL``, ...
  or "no default issuer" make the instance not ready);
- **key store**: every issuer's signing key is decrypted (once per process; a wrong
  passphrase, a missing or unreadable key file make it not ready); staged keys this key store
  does not hold are listed, so an operator can see when every instance holds a staged key
  before activating it;
- **clock**: the wall clock must not have moved more than :data:`CLOCK_JUMP_LIMIT` seconds away
  from the monotonic clock since the process started. A jump (an NTP step, a restored VM, a
  faked clock) is logged at ERROR on every check and makes the instance not ready: what it
  signs would carry a wrong ``validFrom``. Restart the instance once its clock is right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from contexts.errors import SijilError
from issuer.services.errors import NotFoundError
from issuer.services.issuers import get_issuer, list_issuers, signing_key
from issuer.services.keylifecycle import list_keys
from issuer.services.runtime import Runtime

__all__ = ["CLOCK_JUMP_LIMIT", "Readiness", "ReadinessCheck", "check_readiness"]

log = logging.getLogger(__name__)

#: Seconds the wall clock may drift from the monotonic clock before the instance is not ready.
CLOCK_JUMP_LIMIT: Final = 120.0

Status = Literal["ready", "degraded", "not_ready"]


@dataclass(frozen=True)
class ReadinessCheck:
    """One check: ``ok``, ``degraded`` or ``failed``, with a detail (and an error code)."""

    status: Literal["ok", "degraded", "failed"]
    detail: str
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {"status": self.status, "detail": self.detail}
        if self.code is not None:
            out["code"] = self.code
        return out


@dataclass(frozen=True)
class Readiness:
    """The answer of :func:`check_readiness`."""

    checks: dict[str, ReadinessCheck]
    warnings: tuple[str, ...] = field(default=())

    @property
    def status(self) -> Status:
        """``not_ready`` if a check failed, ``degraded`` if one is degraded, else ``ready``."""
        states = {c.status for c in self.checks.values()}
        if "failed" in states:
            return "not_ready"
        return "degraded" if "degraded" in states else "ready"

    @property
    def detail(self) -> str:
        """The failed and degraded checks' details, one sentence each."""
        return "; ".join(
            f"{name}: {c.detail}" for name, c in self.checks.items() if c.status != "ok"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "status": self.status,
            "checks": {name: c.to_dict() for name, c in self.checks.items()},
            "warnings": list(self.warnings),
        }


def _database(rt: Runtime) -> ReadinessCheck:
    try:
        view = get_issuer(rt)
    except NotFoundError as exc:
        return ReadinessCheck("failed", exc.detail, exc.code)
    except SijilError as exc:  # DATABASE_UNAVAILABLE, DISK_FULL, ... (typed by issuer.db)
        return ReadinessCheck("failed", exc.detail, exc.code)
    return ReadinessCheck("ok", f"database answers; default issuer {view.slug}")


def _keystore(rt: Runtime, warnings: list[str]) -> ReadinessCheck:
    try:
        views = list_issuers(rt)
    except SijilError as exc:
        return ReadinessCheck("failed", f"cannot list issuers: {exc.detail}", exc.code)
    notes = []
    for view in views:
        try:
            signing_key(rt, view)
            keys = list_keys(rt, view.slug)
        except SijilError as exc:
            return ReadinessCheck("failed", f"issuer {view.slug}: {exc.detail}", exc.code)
        note = rt.key_warnings.get(view.slug)
        if note is not None:
            notes.append(note)
        warnings.extend(
            f"issuer {view.slug}: staged key {k.verification_method} is not in this instance's "
            "key store yet (copy its file here before `keys activate`)"
            for k in keys
            if k.state == "staged" and not k.held
        )
    if notes:
        return ReadinessCheck("degraded", "; ".join(notes), "KEYSTORE_KEY_NOT_FOUND")
    return ReadinessCheck("ok", f"signing keys of {len(views)} issuer(s) decrypted")


def _clock(rt: Runtime, limit: float) -> ReadinessCheck:
    drift = rt.clock_drift()
    if abs(drift) > limit:
        detail = (
            f"the wall clock jumped {drift:+.0f} s relative to the monotonic clock since this "
            f"process started (limit {limit:.0f} s): fix the clock, then restart the instance"
        )
        log.error("CLOCK JUMP: %s", detail)
        return ReadinessCheck("failed", detail, "CLOCK_JUMP")
    return ReadinessCheck("ok", f"wall and monotonic clocks agree within {abs(drift):.1f} s")


def check_readiness(rt: Runtime, *, clock_limit: float = CLOCK_JUMP_LIMIT) -> Readiness:
    """Check the database, the key store and the clock (see the module docstring)."""
    warnings: list[str] = []
    database = _database(rt)
    keystore = (
        _keystore(rt, warnings)
        if database.status == "ok"
        else ReadinessCheck("failed", "not checked: the database is not ready", database.code)
    )
    checks = {"database": database, "keystore": keystore, "clock": _clock(rt, clock_limit)}
    return Readiness(checks, tuple(warnings))
