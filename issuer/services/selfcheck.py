"""Self-verification's verdict: a credential we just signed, checked with the verifier's code.

Pure (no database): :func:`issuer.services.issuance.verify_own` runs it in the issuing process
and :mod:`issuer.services.signpool` in its workers, so both apply the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contexts.errors import SijilError
from issuer.services.errors import SelfVerificationError
from verifier import Verifier, check_schema

__all__ = ["check_own"]


def check_own(
    credential: Mapping[str, Any] | str,
    verifier: Verifier,
    *,
    at: datetime,
    tolerate: frozenset[str] = frozenset(),
) -> None:
    """Verify ``credential`` (JSON-LD, or a VC-JWT as text) with ``verifier`` at ``at``.
    Raises ``SELF_VERIFICATION_FAILED`` (detail lists the verifier's error codes).

    ``tolerate``: errors that do not make the check fail, by ``CODE`` or ``CODE@/pointer``.
    OB 3.0 / CLR 2.0 allow one ``credentialStatus``; with suspension on (a list of two, a
    documented trade-off) the schema is checked on a copy holding the revocation entry only.
    """
    several = not isinstance(credential, str) and isinstance(
        credential.get("credentialStatus"), list
    )
    data = credential if isinstance(credential, str) else dict(credential)
    report = verifier.verify(data, at=at, check_schema=not several)
    if several and not isinstance(credential, str):
        try:
            check_schema(_revocation_only(credential))
        except SijilError as exc:
            raise SelfVerificationError(
                f"the credential just signed does not follow its schema ({exc.code}: {exc.detail})"
            ) from exc
    if not report.verified and not all(_tolerated(e, tolerate) for e in report.errors):
        errors = report.to_dict().get("errors", [])
        codes = ", ".join(f"{e.get('code')}: {e.get('detail')}" for e in errors)
        raise SelfVerificationError(
            f"the verifier rejected the credential just signed ({codes})", errors=errors
        )


def _tolerated(error: Mapping[str, Any], tolerate: frozenset[str]) -> bool:
    """Whether ``error`` is one ``tolerate`` names, by ``CODE`` or ``CODE@/pointer``."""
    code = str(error.get("code"))
    return code in tolerate or f"{code}@{error.get('pointer')}" in tolerate


def _revocation_only(credential: Mapping[str, Any]) -> dict[str, Any]:
    """A copy whose ``credentialStatus`` lists (its own and its embedded credentials') keep
    their first (revocation) entry only: what the OB/CLR schema check sees."""
    out = dict(credential)
    status = out.get("credentialStatus")
    if isinstance(status, list) and status:
        out["credentialStatus"] = status[0]
    subject = out.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("verifiableCredential"), list):
        out["credentialSubject"] = {
            **subject,
            "verifiableCredential": [
                _revocation_only(c) if isinstance(c, Mapping) else c
                for c in subject["verifiableCredential"]
            ],
        }
    return out
