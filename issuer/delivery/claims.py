"""Claim links: a signed, expiring token that opens one learner's page without a password.

The token is ``itsdangerous``' URL-safe *timed* serializer over ``{"l": <learner external id>,
"e": <expiry, Unix seconds>}``, signed with ``SIJIL_SECRET_KEY`` and a purpose salt, so a session
cookie can never be replayed as a claim link. Two limits hold: the expiry chosen when the link
was made (30 days by default), and :data:`MAX_CLAIM_LINK_LIFETIME` counted from the signature's
own timestamp, so no token, whatever expiry it claims, opens a page after 90 days.

Key rotation: tokens are signed with the current secret key and read with it or any of
``SIJIL_SECRET_KEY_FALLBACKS`` (Flask's ``SECRET_KEY_FALLBACKS`` idea), so links mailed before a
rotation keep working until they expire and the old key can then be dropped.

Time is injected (``at``): the signature's timestamp and every age check use it, never the
library's clock.

Errors: ``INVALID_CLAIM_LINK`` (404: tampered, wrong key, malformed, signed in the future),
``CLAIM_LINK_EXPIRED`` (410: ask for a fresh link) and ``MALFORMED_VALUE_ERROR`` (a lifetime
outside 1 second .. 90 days when making one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from itsdangerous import (
    BadData,
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_decode, base64_encode

from contexts.errors import MalformedValueError, SijilError

__all__ = [
    "CLAIM_LINK_LIFETIME",
    "MAX_CLAIM_LINK_LIFETIME",
    "ClaimLinkExpiredError",
    "InvalidClaimLinkError",
    "LearnerClaim",
    "make_claim_token",
    "read_claim_token",
]

#: How long a claim link works: long enough to sit in an inbox over a holiday.
CLAIM_LINK_LIFETIME: Final = timedelta(days=30)
#: No claim link works longer than this after it was signed, whatever expiry it carries.
MAX_CLAIM_LINK_LIFETIME: Final = timedelta(days=90)
_SALT: Final = "sijil.learner-claim.v2"


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


class _SignerAt(TimestampSigner):
    """A timestamp signer whose clock is the injected ``at`` (Unix seconds)."""

    def __init__(self, *args: Any, now: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now


def _serializer(secret_key: str, fallbacks: Sequence[str], at: datetime) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and accepts any of them.
    keys = [*reversed([k for k in fallbacks if k]), secret_key]
    return URLSafeTimedSerializer(
        keys, salt=_SALT, signer=_SignerAt, signer_kwargs={"now": int(at.timestamp())}
    )


def make_claim_token(
    secret_key: str,
    learner: str,
    *,
    at: datetime,
    lifetime: timedelta = CLAIM_LINK_LIFETIME,
) -> str:
    """A claim token for learner ``learner`` (external id) valid from ``at`` for ``lifetime``.

    Raises ``MALFORMED_VALUE_ERROR`` for a lifetime under one second or over 90 days.
    """
    if not timedelta(seconds=1) <= lifetime <= MAX_CLAIM_LINK_LIFETIME:
        raise MalformedValueError(
            f"a claim link lasts 1 second to {MAX_CLAIM_LINK_LIFETIME.days} days, not {lifetime}"
        )
    expires = int((at + lifetime).timestamp())
    token = _serializer(secret_key, (), at).dumps({"l": learner, "e": expires})
    return token if isinstance(token, str) else token.decode("ascii")


def read_claim_token(
    secret_key: str, token: str, *, at: datetime, fallbacks: Sequence[str] = ()
) -> LearnerClaim:
    """The learner a claim token is for, checked against ``secret_key`` and ``fallbacks``
    (earlier keys, newest first). Raises ``INVALID_CLAIM_LINK`` or ``CLAIM_LINK_EXPIRED``."""
    max_age = int(MAX_CLAIM_LINK_LIFETIME.total_seconds())
    # base64 without padding ignores a last character's spare bits: accept only the one
    # canonical spelling of the signature, so no two different links are the same link.
    signature = token.rsplit(".", 1)[-1]
    try:
        canonical = base64_encode(base64_decode(signature)).decode("ascii") == signature
    except BadData:
        canonical = False
    if not canonical:
        raise InvalidClaimLinkError("this claim link is not valid")
    try:
        payload, signed_at = _serializer(secret_key, fallbacks, at).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired as exc:
        if exc.date_signed is not None and exc.date_signed > at:
            raise InvalidClaimLinkError("this claim link is not valid") from exc
        raise ClaimLinkExpiredError(
            "this claim link has expired; ask for a fresh one by email"
        ) from exc
    except BadSignature as exc:
        raise InvalidClaimLinkError("this claim link is not valid") from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("l"), str)
        or not isinstance(payload.get("e"), int)
        or isinstance(payload.get("e"), bool)
    ):
        raise InvalidClaimLinkError("this claim link is not valid")
    try:
        claimed = datetime.fromtimestamp(payload["e"], tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidClaimLinkError("this claim link is not valid") from exc
    expires_at = min(claimed, signed_at + MAX_CLAIM_LINK_LIFETIME)
    if at >= expires_at:
        raise ClaimLinkExpiredError("this claim link has expired; ask for a fresh one by email")
    return LearnerClaim(learner=payload["l"], expires_at=expires_at)
