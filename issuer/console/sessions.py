"""Console session rules, pure: when a session has expired, and the CSRF token check.

A session lives in the signed session cookie as a small dict (:class:`SessionState`). It ends
after :data:`IDLE_TIMEOUT` without a request and after :data:`ABSOLUTE_LIFETIME` whatever
happens; the time comes from the caller (``at``), so tests inject the clock.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from contexts.errors import SijilError

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_TIMEOUT",
    "CsrfError",
    "SessionState",
    "check_csrf",
    "new_csrf_token",
]

IDLE_TIMEOUT: Final = timedelta(minutes=30)
ABSOLUTE_LIFETIME: Final = timedelta(hours=12)


class CsrfError(SijilError):
    """A form arrived without the session's CSRF token (or with another one)."""

    code = "CSRF_TOKEN_INVALID"
    title = "The form has expired or did not come from this console"
    http_status = 400


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def check_csrf(expected: str | None, given: str | None) -> None:
    """Raise ``CSRF_TOKEN_INVALID`` unless ``given`` equals the session's ``expected`` token."""
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfError("the form's CSRF token is missing or does not match this session")


@dataclass(frozen=True)
class SessionState:
    """A signed-in staff member's session: who, since when, last seen when."""

    staff_id: int
    started: datetime
    seen: datetime

    def is_expired(self, at: datetime) -> bool:
        """Idle longer than :data:`IDLE_TIMEOUT` or older than :data:`ABSOLUTE_LIFETIME`."""
        return at - self.seen > IDLE_TIMEOUT or at - self.started > ABSOLUTE_LIFETIME

    def touched(self, at: datetime) -> SessionState:
        """The same session seen at ``at``."""
        return SessionState(self.staff_id, self.started, at)

    def to_cookie(self) -> dict[str, Any]:
        """The values stored in the cookie."""
        return {
            "staff": self.staff_id,
            "started": self.started.isoformat(),
            "seen": self.seen.isoformat(),
        }

    @classmethod
    def from_cookie(cls, data: Mapping[str, Any]) -> SessionState | None:
        """The state kept in a cookie, or ``None`` when it holds no (readable) session."""
        staff, started, seen = data.get("staff"), data.get("started"), data.get("seen")
        if not isinstance(staff, int) or not isinstance(started, str) or not isinstance(seen, str):
            return None
        try:
            return cls(staff, datetime.fromisoformat(started), datetime.fromisoformat(seen))
        except ValueError:
            return None
