"""Claim links: a signed, expiring token that opens one learner's page without a password.

The token is ``itsdangerous`` URL-safe signed JSON ``{"l": <learner external id>, "e": <expiry,
Unix seconds>}`` under the app's ``SIJIL_SECRET_KEY`` with a purpose salt, so a session cookie
can never be replayed as a claim link. Time is injected (``at``): expiry is checked here, not by
the library's clock.

Errors: ``INVALID_CLAIM_LINK`` (404: tampered, wrong key, malformed) and ``CLAIM_LINK_EXPIRED``
(410: ask for a fresh link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from itsdangerous import BadSignature, URLSafeSerializer

from contexts.errors import SijilError

__all__ = [
    "CLAIM_LINK_LIFETIME",
    "ClaimLinkExpiredError",
    "InvalidClaimLinkError",
    "LearnerClaim",
    "make_claim_token",
    "read_claim_token",
]

#: How long a claim link works: long enough to sit in an inbox over a holiday.
CLAIM_LINK_LIFETIME: Final = timedelta(days=30)
_SALT: Final = "sijil.learner-claim.v1"


class InvalidClaimLinkError(SijilError):
    """The claim link was not signed by this issuer (tampered, truncated, other key)."""

    code = "INVALID_CLAIM_LINK"
    title = "Invalid claim link"
    http_status = 404


class ClaimLinkExpiredError(SijilError):
    """The claim link is genuine but too old: the learner asks for a fresh one."""

    code = "CLAIM_LINK_EXPIRED"
    title = "Claim link expired"
    http_status = 410


@dataclass(frozen=True)
class LearnerClaim:
    """Who a valid claim link is for, and until when it works."""

    learner: str
    expires_at: datetime


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def make_claim_token(
    secret_key: str,
    learner: str,
    *,
    at: datetime,
    lifetime: timedelta = CLAIM_LINK_LIFETIME,
) -> str:
    """A claim token for learner ``learner`` (external id) valid from ``at`` for ``lifetime``."""
    expires = int((at + lifetime).timestamp())
    token = _serializer(secret_key).dumps({"l": learner, "e": expires})
    return token if isinstance(token, str) else token.decode("ascii")


def read_claim_token(secret_key: str, token: str, *, at: datetime) -> LearnerClaim:
    """The learner a claim token is for. Raises ``INVALID_CLAIM_LINK`` or ``CLAIM_LINK_EXPIRED``."""
    try:
        payload: Any = _serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise InvalidClaimLinkError("this claim link is not valid") from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("l"), str)
        or not isinstance(payload.get("e"), int)
        or isinstance(payload.get("e"), bool)
    ):
        raise InvalidClaimLinkError("this claim link is not valid")
    expires_at = datetime.fromtimestamp(payload["e"], tz=UTC)
    if at >= expires_at:
        raise ClaimLinkExpiredError("this claim link has expired; ask for a fresh one by email")
    return LearnerClaim(learner=payload["l"], expires_at=expires_at)
