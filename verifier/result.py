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
from .trust import TrustList, issuer_identity
from .validity import format_date

__all__ = [
    "CHECK_NAMES",
    "COMPONENT_HEADLINES",
    "HEADLINES",
    "VERDICT_ORDER",
    "CheckName",
    "CheckResult",
    "ComponentSummary",
    "CredentialSummary",
    "Verdict",
    "VerificationReport",
    "VerifyOptions",
    "award_kind",
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
    "could_not_check",
]
#: Worst first: a presentation's verdict is the worst of its credentials'.
VERDICT_ORDER: tuple[Verdict, ...] = (
    "invalid",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "could_not_check",
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
    "unknown_issuer": "Signature valid, issuer not recognised: this verifier does not know "
    "the signer as an issuer, so it cannot vouch for the credential.",
    "status_unknown": "Could not check status: the issuer's status list was not available.",
    "could_not_check": "Could not check: the issuer's keys could not be fetched, so the "
    "signature could not be checked (this does not mean the credential is forged).",
}
#: Headlines of a programme statement whose verdict comes from a credential it stacks.
COMPONENT_HEADLINES: Mapping[Verdict, str] = {
    "revoked": "Revoked: the issuer has revoked a micro-credential this statement stacks, so "
    "the statement no longer stands.",
    "suspended": "Suspended: the issuer has suspended a micro-credential this statement stacks.",
    "expired": "Expired: a micro-credential this statement stacks is no longer valid.",
    "not_yet_valid": "Not yet valid: a micro-credential this statement stacks is not valid yet.",
    "status_unknown": "Could not check status: the status of a micro-credential this statement "
    "stacks could not be checked.",
    "could_not_check": "Could not check: the keys of a micro-credential this statement stacks "
    "could not be fetched.",
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
    """One credential embedded in a programme statement or learner record, for the page.

    ``verified`` and ``verdict`` are that credential's own report's; ``codes`` its error codes.
    """

    credential_id: str | None
    achievement_id: str | None
    achievement_name: str | None
    credits: int | float | None
    verdict: Verdict
    verified: bool = False
    codes: tuple[str, ...] = ()
    learner_name: str | None = None

    @classmethod
    def from_report(cls, part: VerificationReport) -> ComponentSummary:
        """Summarise an embedded credential's own report."""
        summary = part.credential
        return cls(
            credential_id=summary.id if summary else None,
            achievement_id=summary.achievement_id if summary else None,
            achievement_name=summary.achievement_name if summary else None,
            credits=summary.credits if summary else None,
            verdict=part.verdict,
            verified=part.verified,
            codes=part.error_codes,
            learner_name=summary.learner_name if summary else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (snake_case keys)."""
        return {
            "credential_id": self.credential_id,
            "achievement_id": self.achievement_id,
            "achievement_name": self.achievement_name,
            "credits": self.credits,
            "verdict": self.verdict,
            "verified": self.verified,
            "codes": list(self.codes),
            "learner_name": self.learner_name,
        }


def award_kind(credential: Credential) -> str:
    """``COC`` / ``COA`` / ``MMS``, ``CLR`` for any other ClrCredential, else ``VC``.

    A CLR is a programme statement (MMS) only when its award type says so; stacking then
    decides whether it stands. Any other CLR is a Comprehensive Learner Record.
    """
    if credential.is_clr:
        return "MMS" if credential.award_type == "MMS" else "CLR"
    return credential.kind


@dataclass(frozen=True)
class CredentialSummary:
    """What the human page shows about a credential (from the parsed model).

    ``issuer_id`` / ``issuer_domain`` are the identity the signature is checked against (the
    domain for did:web and https issuers); ``issuer_name`` is the trust list's name for a
    recognised issuer and ``None`` otherwise: the credential's own claim is kept apart in
    ``issuer_claimed_name`` and must never be shown as the issuer's identity.
    """

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
    issuer_domain: str | None = None
    issuer_claimed_name: str | None = None
    issuer_recognised: bool = False
    issuer_source: str | None = None

    @classmethod
    def from_model(
        cls,
        credential: Credential,
        *,
        trust: TrustList | None = None,
        components: tuple[ComponentSummary, ...] = (),
    ) -> CredentialSummary:
        """Summarise ``credential``; the issuer's name comes from ``trust`` only."""
        achievement = credential.achievement
        entry = trust.lookup(credential.issuer.id) if trust is not None else None
        identity = issuer_identity(credential.issuer.id)
        return cls(
            id=credential.id,
            types=credential.types,
            award_type=award_kind(credential),
            name=credential.name,
            issuer_id=credential.issuer.id,
            issuer_name=(entry.name or entry.id) if entry is not None else None,
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
            issuer_domain=identity.domain,
            issuer_claimed_name=credential.issuer.name,
            issuer_recognised=entry is not None,
            issuer_source=entry.source if entry is not None else None,
        )

    @property
    def issuer_label(self) -> str:
        """The issuer for one line of text: the verified identity always, the trust list's
        name when recognised, the credential's own name only marked as unverified."""
        identity = self.issuer_id
        if self.issuer_domain and self.issuer_domain not in identity:
            identity = f"{identity} ({self.issuer_domain})"
        if self.issuer_recognised:
            return f"{self.issuer_name} [{identity}]" if self.issuer_name else identity
        claimed = f", calls itself {self.issuer_claimed_name!r}" if self.issuer_claimed_name else ""
        return f"{identity} [not recognised{claimed}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (snake_case keys)."""
        return {
            "id": self.id,
            "type": list(self.types),
            "award_type": self.award_type,
            "name": self.name,
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "issuer_domain": self.issuer_domain,
            "issuer_claimed_name": self.issuer_claimed_name,
            "issuer_recognised": self.issuer_recognised,
            "issuer_source": self.issuer_source,
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
    #: Why the verdict, when it is not the credential's own: ``component`` (a statement whose
    #: verdict comes from a credential it stacks, e.g. a revoked COA inside an MMS).
    verdict_reason: str | None = None

    @property
    def headline(self) -> str:
        """One plain-language sentence for the verdict."""
        if self.verdict_reason == "component" and self.verdict in COMPONENT_HEADLINES:
            return COMPONENT_HEADLINES[self.verdict]
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
            "verdict_reason": self.verdict_reason,
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
    #: Verifier policy (not plain verification): a presentation's credentials must be about
    #: its holder (``HOLDER_MISMATCH``). VC DM 2.0 allows holder != subject.
    require_holder_binding: bool = False
