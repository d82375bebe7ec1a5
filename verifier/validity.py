"""The validity-period check (VC Data Model 2.0 section 4.9 "Validity Period").

A credential is valid from ``validFrom`` (VC 1.1: ``issuanceDate``) until ``validUntil``
(VC 1.1: ``expirationDate``), both optional. The comparison allows :data:`CLOCK_SKEW` either
way: the issuer's and the verifier's clocks are not the same clock, and a credential issued a
few seconds "in the future" by a fast issuer clock must not read as not-yet-valid.

Errors: ``CREDENTIAL_NOT_YET_VALID``, ``CREDENTIAL_EXPIRED`` (ours),
``MALFORMED_VALUE_ERROR`` (``validUntil`` before ``validFrom``; raised while parsing dates in
:mod:`verifier.models` for malformed values).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from contexts.errors import MalformedValueError

from .errors import CredentialExpiredError, CredentialNotYetValidError
from .models import Credential
from .outcome import Outcome

__all__ = ["CLOCK_SKEW", "check_validity", "format_date"]

#: Tolerance between the issuer's and the verifier's clocks.
CLOCK_SKEW = timedelta(minutes=5)


def format_date(value: datetime) -> str:
    """A UTC date-time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_validity(
    credential: Credential, at: datetime, *, skew: timedelta = CLOCK_SKEW
) -> Outcome:
    """Raise unless ``at`` lies in the credential's validity period (with ``skew``).

    VC DM 2.0 section 4.9: "validFrom ... the date and time the credential becomes valid",
    "validUntil ... the date and time the credential ceases to be valid".
    """
    start, end = credential.valid_from, credential.valid_until
    if start is not None and end is not None and end < start:
        raise MalformedValueError(
            f"The credential's validity ends ({format_date(end)}) before it starts "
            f"({format_date(start)}).",
            pointer="/validUntil",
        )
    # Differences, not ``at ± skew``: a date near year 1 or 9999 must not overflow.
    if start is not None and start - at > skew:
        raise CredentialNotYetValidError(
            f"The credential is not valid until {format_date(start)}.", pointer="/validFrom"
        )
    if end is not None and at - end >= skew:
        raise CredentialExpiredError(
            f"The credential expired on {format_date(end)}.", pointer="/validUntil"
        )
    if start is None and end is None:
        return Outcome("The credential states no validity period.")
    if end is None:
        return Outcome(
            f"Valid since {format_date(start) if start else 'issuance'}; no expiry date."
        )
    since = f" since {format_date(start)}" if start is not None else ""
    return Outcome(f"Valid{since} until {format_date(end)}.")
