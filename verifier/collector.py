"""Collecting check outcomes: the one place where raised errors become report entries.

:class:`CheckCollector` runs a check (a callable returning an :class:`~verifier.outcome.Outcome`
or raising :class:`~contexts.errors.SijilError`, or an ``ExceptionGroup`` of them) and records
a :class:`~verifier.result.CheckResult` with the codes and a plain-language sentence;
:func:`verdict_of` turns the recorded checks into the one-word verdict. Anything that is not a
``SijilError`` propagates: a bug never reads as "invalid signature".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contexts.errors import CryptosuiteError, SijilError
from keys.fetch import (
    FetchError,
    ForbiddenAddressError,
    ResponseTooLargeError,
    UnexpectedContentTypeError,
)

from .errors import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    CredentialSuspendedError,
    StatusRetrievalError,
    StatusVerificationError,
    UnsupportedStatusTypeError,
)
from .outcome import CheckState, Outcome
from .result import (
    CHECK_NAMES,
    VERDICT_ORDER,
    CheckName,
    CheckResult,
    Verdict,
    VerificationReport,
)

__all__ = [
    "CheckCollector",
    "aggregate_check",
    "is_verified",
    "stacking_verdict",
    "verdict_of",
    "verdict_reason",
]

#: Plain-language sentences for codes whose ``detail`` is technical.
_SENTENCES: Mapping[str, str] = {
    "PROOF_VERIFICATION_ERROR": "The signature does not match: the credential was changed "
    "after it was signed, or it was signed with another key.",
    "MALFORMED_PROOF_ERROR": "The credential's signature is missing or malformed.",
    "INVALID_VERIFICATION_METHOD": "The signing key could not be found, or its owner does not "
    "list it for signing credentials.",
    "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD": "The signing key is not authorised for "
    "this purpose by its owner.",
    "DATA_LOSS_DETECTION_ERROR": "The credential contains terms its vocabulary does not define, "
    "so they would not be covered by the signature.",
    "CONTEXT_NOT_PINNED": "The credential uses a vocabulary (JSON-LD context) this verifier "
    "does not know.",
    "ISSUER_BINDING_ERROR": "The signature is valid, but it was made with a key that does not "
    "belong to the stated issuer.",
    "INVALID_CHALLENGE_ERROR": "The presentation was made for another request (wrong "
    "challenge): it may be a replay.",
    "INVALID_DOMAIN_ERROR": "The presentation was made for another verifier (wrong domain): it "
    "may be a replay.",
    "MISMATCHED_PROOF_PURPOSE_ERROR": "The signature was made for another purpose than this one.",
    "PROOF_EXPIRED": "The signature has expired.",
    "JWT_ALGORITHM_NOT_ALLOWED": "The VC-JWT uses a signature algorithm that is not allowed.",
}
#: Errors that mean "could not check", not "invalid": a status list that could not be had,
#: or a signer's key document that could not be fetched (network failure, timeout, HTTP error).
_UNKNOWN_ERRORS = (
    StatusRetrievalError,
    StatusVerificationError,
    UnsupportedStatusTypeError,
    FetchError,
)
#: Fetch refusals that are the credential's fault (a key at a forbidden address, an oversized
#: or non-JSON key document): they stay "invalid", since trying again later cannot help.
_REFUSED_FETCHES = (ForbiddenAddressError, ResponseTooLargeError, UnexpectedContentTypeError)


def _is_unknown(error: SijilError) -> bool:
    return isinstance(error, _UNKNOWN_ERRORS) and not isinstance(error, _REFUSED_FETCHES)


_FETCH_CODES = frozenset({"FETCH_ERROR", "FETCH_TIMEOUT"})
#: Codes of embedded credentials' failures that make a statement read like the credential.
_COMPONENT_VERDICTS: tuple[tuple[str, Verdict], ...] = (
    ("CREDENTIAL_REVOKED", "revoked"),
    ("CREDENTIAL_SUSPENDED", "suspended"),
    ("CREDENTIAL_EXPIRED", "expired"),
    ("CREDENTIAL_NOT_YET_VALID", "not_yet_valid"),
)


def _flatten(group: BaseExceptionGroup[SijilError]) -> list[SijilError]:
    out: list[SijilError] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_flatten(exc))
        elif isinstance(exc, SijilError):
            out.append(exc)
    return out


def _sentence(error: SijilError) -> str:
    if isinstance(error, FetchError):
        return f"Could not fetch the signer's key document: {error.detail}."
    if isinstance(error, CryptosuiteError):
        return f"The credential is signed in a way this verifier does not support: {error.detail}."
    base = _SENTENCES.get(error.code)
    if base is None:
        return error.detail
    return base


class CheckCollector:
    """Runs checks in order and keeps what they return or raise."""

    def __init__(self) -> None:
        self.checks: dict[str, CheckResult] = {}
        self.errors: list[Mapping[str, Any]] = []
        self.warnings: list[Mapping[str, Any]] = []
        self.raised: dict[str, list[SijilError]] = {}

    def run(self, name: CheckName, check: Callable[[], Outcome]) -> bool:
        """Run ``check``; record its outcome; True when it did not fail."""
        errors: list[SijilError] = []
        try:
            outcome = check()
        except SijilError as exc:
            errors = [exc]
        except ExceptionGroup as group:
            matched, rest = group.split(SijilError)
            if rest is not None or matched is None:
                raise
            errors = _flatten(matched)
        if errors:
            self.fail(name, errors)
            return False
        self.record(name, outcome)
        return True

    def record(self, name: CheckName, outcome: Outcome) -> None:
        """Record a non-failing outcome."""
        self.checks[name] = CheckResult(
            outcome.state, outcome.message, tuple(w.code for w in outcome.warnings)
        )
        for warning in outcome.warnings:
            self.warnings.append({**warning.to_dict(), "check": name})

    def fail(self, name: CheckName, errors: Sequence[SijilError]) -> None:
        """Record a failed (or unknown) check."""
        unknown = all(_is_unknown(e) for e in errors)
        sentences = list(dict.fromkeys(_sentence(e) for e in errors))
        message = " ".join(sentences)
        lead = "Could not check status: " if name == "status" else "Could not check: "
        if unknown and not message.lower().startswith("could not check"):
            message = lead + message
        self.checks[name] = CheckResult(
            "unknown" if unknown else "failed", message, tuple(e.code for e in errors)
        )
        self.raised[name] = list(errors)
        for error in errors:
            self.errors.append({**error.to_dict(), "check": name})

    def skip(self, name: CheckName, message: str) -> None:
        """Record a skipped check."""
        self.checks[name] = CheckResult("skipped", message)

    def ordered(self) -> dict[str, CheckResult]:
        """Checks in :data:`CHECK_NAMES` order."""
        return {name: self.checks[name] for name in CHECK_NAMES if name in self.checks}

    def codes(self) -> set[str]:
        """Every error code raised."""
        return {str(e["code"]) for e in self.errors}


def verdict_of(
    checks: Mapping[str, CheckResult], raised: Mapping[str, list[SijilError]]
) -> Verdict:
    """The one-word verdict. Precedence: a broken signature, binding or schema is
    ``invalid``; a signature that could not be checked (keys not fetched) ``could_not_check``;
    then revoked, suspended, expired, not_yet_valid; then stacking (see
    :func:`stacking_verdict`); then other failures (malformed validity or status) ``invalid``;
    then ``status_unknown`` / ``could_not_check``; then ``unknown_issuer`` (the issuer is not
    recognised, or there is no trust source); else ``valid``."""

    def failed(name: str) -> bool:
        return name in checks and checks[name].status == "failed"

    if failed("proof") or failed("issuer_binding") or failed("schema"):
        return "invalid"
    if checks.get("proof") is not None and checks["proof"].status == "unknown":
        return "could_not_check"
    status_errors = raised.get("status", [])
    if any(isinstance(e, CredentialRevokedError) for e in status_errors):
        return "revoked"
    if any(isinstance(e, CredentialSuspendedError) for e in status_errors):
        return "suspended"
    validity_errors = raised.get("validity", [])
    if any(isinstance(e, CredentialExpiredError) for e in validity_errors):
        return "expired"
    if any(isinstance(e, CredentialNotYetValidError) for e in validity_errors):
        return "not_yet_valid"
    if failed("stacking"):
        return stacking_verdict(raised.get("stacking", []))
    if failed("validity") or failed("status"):
        return "invalid"
    if any(c.status == "unknown" for c in checks.values()):
        return "status_unknown"
    if failed("issuer_trust"):
        return "unknown_issuer"
    return "valid"


def verdict_reason(checks: Mapping[str, CheckResult], verdict: Verdict) -> str | None:
    """``component`` when a statement's verdict comes from a credential it stacks (its own
    signature, status and validity are fine, but stacking failed on an embedded one)."""
    own = ("proof", "issuer_binding", "validity", "status", "schema")
    if verdict in ("valid", "invalid", "unknown_issuer"):
        return None
    if "stacking" not in checks or checks["stacking"].status != "failed":
        return None
    if any(checks[name].status in ("failed", "unknown") for name in own if name in checks):
        return None
    return "component"


def stacking_verdict(errors: Sequence[SijilError]) -> Verdict:
    """A statement's verdict when only its embedded credentials' state fails stacking.

    When every stacking error is an embedded credential that is revoked (or suspended,
    expired, not yet valid, or whose status or keys could not be checked), the statement
    reads like that credential, not "altered": its own signature is fine. Any other
    stacking error (wrong learner, missing component, credits) is ``invalid``.
    """
    verdicts: list[Verdict] = []
    for error in errors:
        inner = {str(c) for c in error.extra.get("codes") or ()}
        if error.code == "STACKING_INNER_STATUS_UNKNOWN":
            verdicts.append("status_unknown")
            continue
        found = [v for code, v in _COMPONENT_VERDICTS if code in inner]
        if error.code in ("STACKING_INNER_REVOKED", "STACKING_INNER_INVALID") and found:
            verdicts.append(found[0])
            continue
        if error.code == "STACKING_INNER_INVALID" and inner & _FETCH_CODES:
            verdicts.append("could_not_check")
            continue
        return "invalid"
    if not verdicts:
        return "invalid"
    return min(verdicts, key=VERDICT_ORDER.index)


def is_verified(checks: Mapping[str, CheckResult]) -> bool:
    """True when no check failed and none is unknown."""
    return all(c.status in ("passed", "warning", "skipped") for c in checks.values())


_STATE_ORDER: tuple[CheckState, ...] = ("failed", "unknown", "warning", "passed", "skipped")


def aggregate_check(name: str, parts: Sequence[VerificationReport]) -> CheckResult:
    """A presentation-level check summarising the same check of every credential."""
    results = [p.checks[name] for p in parts if name in p.checks]
    if not results:
        return CheckResult("skipped", "No credentials to check.")
    worst = min((r.status for r in results), key=_STATE_ORDER.index)
    codes = tuple(dict.fromkeys(code for r in results for code in r.codes))
    bad = [
        f"{_label(p)}: {p.checks[name].message}"
        for p in parts
        if name in p.checks and p.checks[name].status == worst
    ]
    if worst in ("passed", "skipped"):
        message = f"All {len(results)} credential(s): {results[0].message}"
        if len(results) > 1:
            message = f"{len(results)} credential(s) checked; none has a problem."
    else:
        message = " ".join(bad)
    return CheckResult(worst, message, codes)


def _label(part: VerificationReport) -> str:
    if part.credential is not None:
        return part.credential.achievement_name or part.credential.name or str(part.credential.id)
    return "an embedded credential"
