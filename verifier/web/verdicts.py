"""How a verification report reads on the human page (English and Malay).

Presentation only: the verdict itself is decided by :mod:`verifier.report`; this module turns
its ``to_dict()`` form into labels, an icon and a tone for the result page. The verdict is
always written out in words (never colour or icon alone), in English with the Malay label
beside it (learners and many employers are Malaysian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CHECK_LABELS",
    "OUTCOME_LABELS",
    "VERDICTS",
    "CheckView",
    "ComponentView",
    "Fact",
    "ResultView",
    "VerdictLabel",
    "normalize_verdict",
    "result_view",
]


@dataclass(frozen=True)
class VerdictLabel:
    """Words, icon and tone of one verdict."""

    key: str
    en: str
    ms: str
    sentence_en: str
    sentence_ms: str
    icon: str
    tone: str


VERDICTS: dict[str, VerdictLabel] = {
    label.key: label
    for label in [
        VerdictLabel(
            "valid",
            "Valid",
            "Sah",
            "This credential is genuine, unchanged and in force.",
            "Kelayakan ini tulen, tidak diubah dan masih berkuat kuasa.",
            "\u2714",
            "good",
        ),
        VerdictLabel(
            "revoked",
            "Revoked",
            "Dibatalkan",
            "The issuer has revoked this credential; it is no longer valid.",
            "Pengeluar telah membatalkan kelayakan ini; ia tidak lagi sah.",
            "\u2716",
            "bad",
        ),
        VerdictLabel(
            "suspended",
            "Suspended",
            "Digantung",
            "The issuer has suspended this credential for now.",
            "Pengeluar telah menggantung kelayakan ini buat masa ini.",
            "!",
            "warn",
        ),
        VerdictLabel(
            "expired",
            "Expired",
            "Tamat tempoh",
            "This credential was genuine but its validity period has ended.",
            "Kelayakan ini tulen tetapi tempoh sahnya telah tamat.",
            "!",
            "warn",
        ),
        VerdictLabel(
            "not_yet_valid",
            "Not yet valid",
            "Belum sah",
            "This credential's validity period has not started yet.",
            "Tempoh sah kelayakan ini belum bermula.",
            "!",
            "warn",
        ),
        VerdictLabel(
            "invalid",
            "Invalid",
            "Tidak sah",
            "This credential failed verification: it was altered, or was not signed by its issuer.",
            "Kelayakan ini gagal disahkan: ia telah diubah, atau tidak ditandatangani oleh "
            "pengeluarnya.",
            "\u2716",
            "bad",
        ),
        VerdictLabel(
            "unknown_issuer",
            "Unknown issuer",
            "Pengeluar tidak dikenali",
            "The signature is valid, but the issuer is not on this verifier's list of "
            "recognised issuers.",
            "Tandatangan adalah sah, tetapi pengeluar tiada dalam senarai pengeluar yang "
            "diiktiraf.",
            "?",
            "warn",
        ),
        VerdictLabel(
            "status_unknown",
            "Could not check status",
            "Status tidak dapat disemak",
            "The signature is valid, but the issuer's status list could not be checked, so "
            "revocation cannot be ruled out.",
            "Tandatangan adalah sah, tetapi senarai status pengeluar tidak dapat disemak.",
            "?",
            "warn",
        ),
    ]
}

_ALIASES = {
    "verified": "valid",
    "ok": "valid",
    "untrusted_issuer": "unknown_issuer",
    "issuer_unknown": "unknown_issuer",
    "issuer_not_trusted": "unknown_issuer",
    "could_not_check_status": "status_unknown",
    "status_unavailable": "status_unknown",
    "status_unchecked": "status_unknown",
    "status_error": "status_unknown",
    "unknown_status": "status_unknown",
}


def normalize_verdict(value: object, *, verified: bool) -> str:
    """Map the report's verdict word onto a :data:`VERDICTS` key.

    An unrecognised word falls back on ``valid`` / ``invalid`` by the report's ``verified``
    flag, so the page can never show "valid" for a report that did not verify.
    """
    key = str(value or "").strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in VERDICTS:
        key = "valid" if verified else "invalid"
    if key == "valid" and not verified:
        key = "invalid"
    return key


@dataclass(frozen=True)
class Fact:
    """One labelled line of the credential summary."""

    en: str
    ms: str
    value: str


@dataclass(frozen=True)
class CheckView:
    """One check (or error, or warning) of the report, in words."""

    name: str
    name_ms: str
    outcome: str
    outcome_label: str
    sentence: str
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComponentView:
    """One COA stacked in a programme statement."""

    name: str
    credits: str
    verdict: VerdictLabel


@dataclass(frozen=True)
class ResultView:
    """Everything the result page shows."""

    verified: bool
    verdict: VerdictLabel
    headline: str
    #: False when the verdict is invalid: the summary is then only what the document claims.
    claims_checked: bool = True
    facts: list[Fact] = field(default_factory=list)
    components: list[ComponentView] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)
    errors: list[CheckView] = field(default_factory=list)
    warnings: list[CheckView] = field(default_factory=list)


_FACTS: list[tuple[tuple[str, ...], str, str]] = [
    (("issuer_name", "issuer_id"), "Issuer", "Pengeluar"),
    (("learner_name",), "Learner", "Pelajar"),
    (("achievement_name", "name"), "Achievement", "Pencapaian"),
    (("human_code",), "Code", "Kod"),
    (("award_type",), "Award type", "Jenis anugerah"),
    (("date",), "Date", "Tarikh"),
    (("valid_until",), "Valid until", "Sah sehingga"),
    (("credits",), "Credits", "Kredit"),
    (("mqf_level",), "MQF level", "Tahap MQF"),
    (("id",), "Credential ID", "ID kelayakan"),
]

_AWARD_TYPES = {
    "COC": "Certificate of Completion (COC)",
    "COA": "Certificate of Achievement (COA)",
    "MMS": "Micro-credential Mastery Statement (MMS)",
}

#: Check names of :data:`verifier.report.CHECK_NAMES`, in English and Malay.
CHECK_LABELS: dict[str, tuple[str, str]] = {
    "proof": ("Signature", "Tandatangan"),
    "issuer_binding": ("Signed by the issuer", "Ditandatangani oleh pengeluar"),
    "validity": ("Validity period", "Tempoh sah"),
    "status": ("Revocation status", "Status pembatalan"),
    "schema": ("Format", "Format"),
    "issuer_trust": ("Recognised issuer", "Pengeluar diiktiraf"),
    "stacking": ("Programme stacking", "Susunan program"),
}

OUTCOME_LABELS: dict[str, str] = {
    "passed": "Passed \u00b7 Lulus",
    "failed": "Failed \u00b7 Gagal",
    "warning": "Warning \u00b7 Amaran",
    "skipped": "Not checked \u00b7 Tidak disemak",
    "unknown": "Could not check \u00b7 Tidak dapat disemak",
}


def _text(value: Any) -> str | None:
    if value is None or value == "" or value == [] or isinstance(value, Mapping):
        return None
    if isinstance(value, (list, tuple)):
        parts = [p for p in (_text(v) for v in value) if p]
        return ", ".join(parts) or None
    return str(value)


def _human_date(text: str) -> str:
    """``2026-01-15`` for midnight UTC, else ``2026-01-15 14:30 UTC``; other text unchanged."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    moment = moment.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _facts(summary: Mapping[str, Any]) -> list[Fact]:
    facts: list[Fact] = []
    for keys, en, ms in _FACTS:
        for key in keys:
            text = _text(summary.get(key))
            if text:
                if key == "award_type":
                    text = _AWARD_TYPES.get(text, text)
                elif key in ("date", "valid_until"):
                    text = _human_date(text)
                facts.append(Fact(en, ms, text))
                break
    return facts


def _entry(item: Any, default_name: str = "") -> CheckView:
    if not isinstance(item, Mapping):
        return CheckView(default_name, "", "", "", _text(item) or "")
    name = str(item.get("check") or default_name)
    en, ms = CHECK_LABELS.get(name, (name.replace("_", " ").capitalize(), ""))
    outcome = str(item.get("status") or "")
    sentence = str(item.get("message") or item.get("detail") or item.get("title") or "")
    codes = item.get("codes")
    if not isinstance(codes, (list, tuple)):
        codes = [item["code"]] if item.get("code") else []
    return CheckView(
        name=en,
        name_ms=ms,
        outcome=outcome,
        outcome_label=OUTCOME_LABELS.get(outcome, outcome),
        sentence=sentence,
        codes=tuple(str(c) for c in codes),
    )


def _entries(items: Any) -> list[CheckView]:
    if isinstance(items, Mapping):
        return [_entry(value, str(key)) for key, value in items.items()]
    if isinstance(items, Sequence) and not isinstance(items, str):
        return [_entry(value) for value in items]
    return []


def _components(summary: Mapping[str, Any]) -> list[ComponentView]:
    out: list[ComponentView] = []
    for item in summary.get("components") or []:
        if isinstance(item, Mapping):
            out.append(
                ComponentView(
                    name=_text(item.get("achievement_name"))
                    or _text(item.get("credential_id"))
                    or "?",
                    credits=_text(item.get("credits")) or "",
                    verdict=VERDICTS[normalize_verdict(item.get("verdict"), verified=False)],
                )
            )
    return out


def _summary(report: Mapping[str, Any]) -> Mapping[str, Any]:
    """The credential summary; for a presentation, its first credential's."""
    summary = report.get("credential")
    if isinstance(summary, Mapping):
        return summary
    for part in report.get("credentials") or []:
        if isinstance(part, Mapping) and isinstance(part.get("credential"), Mapping):
            found: Mapping[str, Any] = part["credential"]
            return found
    return {}


def result_view(report: Mapping[str, Any]) -> ResultView:
    """Build the page's view of a report's ``to_dict()`` form."""
    verified = report.get("verified") is True
    verdict = VERDICTS[normalize_verdict(report.get("verdict"), verified=verified)]
    summary = _summary(report)
    headline = _text(report.get("headline")) or verdict.sentence_en
    checks = _entries(report.get("checks"))
    # The checks carry the core's plain-language sentences; the raw errors are the fallback.
    errors = [c for c in checks if c.outcome in ("failed", "unknown")] or _entries(
        report.get("errors")
    )
    warnings = [c for c in checks if c.outcome == "warning"]
    if not checks:
        warnings = _entries(report.get("warnings"))
    return ResultView(
        verified=verified,
        verdict=verdict,
        headline=headline,
        claims_checked=verdict.key != "invalid",
        facts=_facts(summary),
        components=_components(summary),
        checks=checks,
        errors=errors,
        warnings=warnings,
    )
