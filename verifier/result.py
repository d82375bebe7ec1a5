"""The verification report's data: check results, the credential summary, the report.

Frozen dataclasses with ``to_dict()`` JSON shapes (snake_case keys). Built by
:mod:`verifier.report` (one place collects check outcomes); read by the CLI, the web app and
:mod:`verifier.transfer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from .inputs import InputFormat
from .models import Credential
from .outcome import CheckState
from .trust import TrustList
from .validity import format_date

__all__ = [
    "CHECK_NAMES",
    "HEADLINES",
    "VERDICT_ORDER",
    "CheckName",
    "CheckResult",
    "ComponentSummary",
    "CredentialSummary",
    "Verdict",
    "VerificationReport",
    "VerifyOptions",
]

CheckName = Literal[
    "proof", "issuer_binding", "validity", "status", "schema", "issuer_trust", "stacking"
]
CHECK_NAMES: tuple[CheckName, ...] = (
    "proof",
    "issuer_binding",
    "validity",
    "status",
    "schema",
    "issuer_trust",
    "stacking",
)
Verdict = Literal[
    "valid",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "invalid",
    "unknown_issuer",
    "status_unknown",
]
#: Worst first: a presentation's verdict is the worst of its credentials'.
VERDICT_ORDER: tuple[Verdict, ...] = (
    "invalid",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "status_unknown",
    "unknown_issuer",
    "valid",
)
HEADLINES: Mapping[Verdict, str] = {
    "valid": "Valid: this credential is genuine and in good standing.",
    "revoked": "Revoked: the issuer has withdrawn this credential.",
    "suspended": "Suspended: the issuer has put this credential on hold.",
    "expired": "Expired: this credential is no longer valid.",
    "not_yet_valid": "Not yet valid: this credential's validity period has not started.",
    "invalid": "Invalid: this credential cannot be trusted.",
    "unknown_issuer": "Signature valid; issuer not on your list.",
    "status_unknown": "Could not check status: the issuer's status list was not available.",
}


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome in the report."""

    status: CheckState
    message: str
    codes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"status", "codes", "message"}``."""
        return {"status": self.status, "codes": list(self.codes), "message": self.message}


@dataclass(frozen=True)
class ComponentSummary:
    """One COA stacked in an MMS, for the human page."""

    credential_id: str | None
    achievement_id: str | None
    achievement_name: str | None
    credits: int | float | None
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (snake_case keys)."""
        return {
            "credential_id": self.credential_id,
            "achievement_id": self.achievement_id,
            "achievement_name": self.achievement_name,
            "credits": self.credits,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class CredentialSummary:
    """What the human page shows about a credential (from the parsed model)."""

    id: str | None
    types: tuple[str, ...]
    award_type: str
    name: str | None
    issuer_id: str
    issuer_name: str | None
    learner_name: str | None
    learner_id: str | None
    achievement_id: str | None
    achievement_name: str | None
    achievement_type: str | None
    human_code: str | None
    date: str | None
    valid_until: str | None
    credits: int | float | None
    mqf_level: int | None
    components: tuple[ComponentSummary, ...] = ()

    @classmethod
    def from_model(
        cls,
        credential: Credential,
        *,
        trust: TrustList | None = None,
        components: tuple[ComponentSummary, ...] = (),
    ) -> CredentialSummary:
        """Summarise ``credential``; a trust-list name fills a missing issuer name."""
        achievement = credential.achievement
        issuer_name = credential.issuer.name
        if issuer_name is None and trust is not None:
            entry = trust.lookup(credential.issuer.id)
            issuer_name = entry.name if entry is not None else None
        return cls(
            id=credential.id,
            types=credential.types,
            award_type=credential.kind,
            name=credential.name,
            issuer_id=credential.issuer.id,
            issuer_name=issuer_name,
            learner_name=credential.subject.learner_name,
            learner_id=credential.subject.id,
            achievement_id=achievement.id if achievement else None,
            achievement_name=achievement.name if achievement else None,
            achievement_type=achievement.achievement_type if achievement else None,
            human_code=achievement.human_code if achievement else None,
            date=format_date(credential.valid_from) if credential.valid_from else None,
            valid_until=format_date(credential.valid_until) if credential.valid_until else None,
            credits=_number(credential.credits),
            mqf_level=achievement.mqf_level if achievement else None,
            components=components,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (snake_case keys)."""
        return {
            "id": self.id,
            "type": list(self.types),
            "award_type": self.award_type,
            "name": self.name,
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "learner_name": self.learner_name,
            "learner_id": self.learner_id,
            "achievement_id": self.achievement_id,
            "achievement_name": self.achievement_name,
            "achievement_type": self.achievement_type,
            "human_code": self.human_code,
            "date": self.date,
            "valid_until": self.valid_until,
            "credits": self.credits,
            "mqf_level": self.mqf_level,
            "components": [c.to_dict() for c in self.components],
        }


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of :func:`verify_credential`.

    ``checks`` is ordered as :data:`CHECK_NAMES`. ``errors`` / ``warnings`` are
    ``{"code", "title", "detail", "check", ...}`` dicts. ``document`` is the credential (or
    presentation) as verified (the JWT payload for a VC-JWT); ``model`` its typed view;
    ``parts`` the embedded credentials' own reports (a presentation's credentials, an MMS's
    COAs). ``kind`` is ``credential`` or ``presentation``; for a presentation,
    ``presentation_accepted`` says whether the holder's proof (challenge, domain) and holder
    binding held, whatever the credentials inside.
    """

    verified: bool
    verdict: Verdict
    checks: Mapping[str, CheckResult]
    errors: tuple[Mapping[str, Any], ...] = ()
    warnings: tuple[Mapping[str, Any], ...] = ()
    credential: CredentialSummary | None = None
    kind: Literal["credential", "presentation"] = "credential"
    format: InputFormat = "json-ld"
    document: Mapping[str, Any] | None = field(default=None, repr=False)
    model: Credential | None = field(default=None, repr=False)
    holder: str | None = None
    parts: tuple[VerificationReport, ...] = field(default=(), repr=False)
    proofs: tuple[Mapping[str, Any], ...] = ()
    checked_at: str = ""
    #: Presentations only: the holder's own proof (or its allowed absence) and binding held.
    presentation_accepted: bool | None = None

    @property
    def headline(self) -> str:
        """One plain-language sentence for the verdict."""
        return HEADLINES[self.verdict]

    @property
    def error_codes(self) -> tuple[str, ...]:
        """Every error code, in report order."""
        return tuple(str(e["code"]) for e in self.errors)

    def to_dict(self) -> dict[str, Any]:
        """``{"verified", "verdict", "headline", "errors", "warnings", "checks", "credential",
        ...}``; a presentation adds ``presentation`` and ``credentials`` (each a report)."""
        out: dict[str, Any] = {
            "verified": self.verified,
            "verdict": self.verdict,
            "headline": self.headline,
            "kind": self.kind,
            "format": self.format,
            "checked_at": self.checked_at,
            "errors": [dict(e) for e in self.errors],
            "warnings": [dict(w) for w in self.warnings],
            "checks": {name: result.to_dict() for name, result in self.checks.items()},
            "credential": self.credential.to_dict() if self.credential else None,
            "proofs": [dict(p) for p in self.proofs],
        }
        if self.kind == "presentation":
            out["presentation"] = {
                "id": self.document.get("id") if self.document else None,
                "holder": self.holder,
                "accepted": self.presentation_accepted,
            }
        if self.parts:
            out["credentials"] = [part.to_dict() for part in self.parts]
        return out


@dataclass(frozen=True)
class VerifyOptions:
    """Per-call options of a verification (see :func:`verifier.report.verify_credential`)."""

    at: datetime
    issuer_binding: bool
    challenge: str | None
    domain: str | None
    check_status: bool
    check_schema: bool
    allow_unsigned_presentation: bool
