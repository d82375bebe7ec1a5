"""How a verification report reads on the human page (English and Malay).

Presentation only: the verdict itself is decided by :mod:`verifier.report`; this module turns
its ``to_dict()`` form into labels, an icon and a tone for the result page. The verdict is
always written out in words (never colour or icon alone), in English with the Malay label
beside it (learners and many employers are Malaysian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from verifier.awardtypes import AWARD_TITLES

from .wording import CHECK_SENTENCES_MS, age_words, malaysia_time

__all__ = [
    "CHECK_LABELS",
    "COMPONENT_SENTENCES_MS",
    "OUTCOME_LABELS",
    "VERDICTS",
    "CheckView",
    "ComponentView",
    "Fact",
    "ResultView",
    "StaleView",
    "VerdictLabel",
    "clean_bidi",
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
            "Kredensial ini tulen, tidak diubah dan masih berkuat kuasa.",
            "\u2714",
            "good",
        ),
        VerdictLabel(
            "revoked",
            "Revoked",
            "Dibatalkan",
            "The issuer has revoked this credential; it is no longer valid.",
            "Pengeluar telah membatalkan kredensial ini; ia tidak lagi sah.",
            "\u2716",
            "bad",
        ),
        VerdictLabel(
            "suspended",
            "Suspended",
            "Digantung",
            "The issuer has suspended this credential for now.",
            "Pengeluar telah menggantung kredensial ini buat masa ini.",
            "!",
            "warn",
        ),
        VerdictLabel(
            "expired",
            "Expired",
            "Tamat tempoh",
            "This credential was genuine but its validity period has ended.",
            "Kredensial ini tulen tetapi tempoh sahnya telah tamat.",
            "!",
            "warn",
        ),
        VerdictLabel(
            "not_yet_valid",
            "Not yet valid",
            "Belum sah",
            "This credential's validity period has not started yet.",
            "Tempoh sah kredensial ini belum bermula.",
            "!",
            "warn",
        ),
        VerdictLabel(
            "invalid",
            "Invalid",
            "Tidak sah",
            "This credential failed verification: it was altered, or was not signed by its issuer.",
            "Kredensial ini gagal disahkan: ia telah diubah, atau tidak ditandatangani oleh "
            "pengeluarnya.",
            "\u2716",
            "bad",
        ),
        VerdictLabel(
            "unknown_issuer",
            "Signature valid, issuer not recognised",
            "Tandatangan betul, pengeluar tidak dikenali",
            "The signature checks out, but this verifier does not recognise the signer as an "
            "issuer, so it cannot vouch for this credential. Check the issuer's identity below.",
            "Tandatangan adalah betul, tetapi pengesah ini tidak mengenali penandatangan sebagai "
            "pengeluar, jadi ia tidak dapat menjamin kredensial ini. Semak identiti pengeluar di "
            "bawah.",
            "?",
            "warn",
        ),
        VerdictLabel(
            "could_not_check",
            "Could not check",
            "Tidak dapat disemak",
            "The issuer's keys could not be fetched, so the signature could not be checked. "
            "This does not mean the credential is forged: try again later.",
            "Kunci pengeluar tidak dapat diambil, jadi tandatangan tidak dapat disemak. Ini "
            "tidak bermakna kredensial ini palsu: cuba lagi kemudian.",
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

#: Malay sentences of a statement whose verdict comes from a credential it stacks.
COMPONENT_SENTENCES_MS: dict[str, str] = {
    "revoked": "Pengeluar telah membatalkan mikro-kredensial yang disusun dalam pernyataan ini; "
    "pernyataan ini tidak lagi sah.",
    "suspended": "Pengeluar telah menggantung mikro-kredensial yang disusun dalam pernyataan ini.",
    "expired": "Mikro-kredensial yang disusun dalam pernyataan ini telah tamat tempoh.",
    "not_yet_valid": "Mikro-kredensial yang disusun dalam pernyataan ini belum sah.",
    "status_unknown": "Status mikro-kredensial yang disusun dalam pernyataan ini tidak dapat "
    "disemak.",
    "could_not_check": "Kunci mikro-kredensial yang disusun dalam pernyataan ini tidak dapat "
    "diambil.",
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
    #: The Malay sentence (empty when there is none for this check and outcome).
    sentence_ms: str = ""


@dataclass(frozen=True)
class StaleView:
    """A last-known key document or status list used because the issuer was unreachable."""

    en: str
    ms: str
    code: str


@dataclass(frozen=True)
class ComponentView:
    """One credential stacked in a programme statement (or held in a learner record)."""

    name: str
    credits: str
    verdict: VerdictLabel
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResultView:
    """Everything the result page shows."""

    verified: bool
    verdict: VerdictLabel
    headline: str
    #: False when the verdict is invalid: the summary is then only what the document claims.
    claims_checked: bool = True
    facts: list[Fact] = field(default_factory=list)
    #: The Malay sentence under the headline.
    sentence_ms: str = ""
    #: True when the issuer is on the verifier's trust list (else its claims are unvouched).
    issuer_recognised: bool = False
    #: "MMS" (programme statement), "CLR" (learner record) or "" : how components are titled.
    collection: str = ""
    components: list[ComponentView] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)
    errors: list[CheckView] = field(default_factory=list)
    warnings: list[CheckView] = field(default_factory=list)
    #: Last-known copies used in an issuer outage, with their age.
    stale: list[StaleView] = field(default_factory=list)
    #: When the check ran, in Malaysia time.
    checked_at: str = ""


_FACTS: list[tuple[tuple[str, ...], str, str]] = [
    (("learner_name",), "Learner", "Pelajar"),
    (("achievement_name", "name"), "Achievement", "Pencapaian"),
    (("human_code",), "Code", "Kod"),
    (("award_type",), "Award type", "Jenis anugerah"),
    (("date",), "Date", "Tarikh"),
    (("valid_until",), "Valid until", "Sah sehingga"),
    (("credits",), "Credits", "Kredit"),
    (("mqf_level",), "MQF level", "Tahap MQF"),
    (("id",), "Credential ID", "ID kredensial"),
]

#: Explicit bidirectional formatting characters (UAX #9): embeddings, overrides, isolates.
_EMBEDDINGS = frozenset("\u202a\u202b")
_OVERRIDES = frozenset("\u202d\u202e")
_POP_EMBEDDING = "\u202c"
_ISOLATES = frozenset("\u2066\u2067\u2068")
_POP_ISOLATE = "\u2069"


def clean_bidi(text: str) -> str:
    """``text`` without bidi overrides (U+202D, U+202E: they reorder what a reader sees, e.g.
    ``evil\u202eFDP.exe``) and without unpaired embedding / isolate controls, so text from a
    credential cannot reorder the page around it. The template also isolates each value
    (``<bdi>``), so right-to-left names still display correctly."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    for char in text:
        if char in _OVERRIDES:
            stack.append(("override", -1))
            continue
        if char in _EMBEDDINGS or char in _ISOLATES:
            stack.append(("isolate" if char in _ISOLATES else "embedding", len(out)))
            out.append(char)
            continue
        if char == _POP_EMBEDDING:
            if stack and stack[-1][0] in ("embedding", "override"):
                kind, _index = stack.pop()
                if kind == "embedding":
                    out.append(char)
            continue
        if char == _POP_ISOLATE:
            while stack and stack[-1][0] != "isolate":
                stack.pop()
            if stack:
                stack.pop()
                out.append(char)
            continue
        out.append(char)
    unclosed = {index for kind, index in stack if index >= 0}
    return "".join(c for i, c in enumerate(out) if i not in unclosed)


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
    return clean_bidi(str(value)) or None


def _human_date(text: str) -> str:
    """An ISO date-time in Malaysia time with its offset (``2026-01-15 08:00 (UTC+08:00)``);
    other text unchanged."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return malaysia_time(moment)


def _award_text(code: str) -> str:
    award = AWARD_TITLES.get(code)
    if award is None:
        return code
    return f"{award.en} ({award.code}) \u00b7 {award.ms}"


def _issuer_facts(summary: Mapping[str, Any]) -> list[Fact]:
    """The issuer as verified: the signer's DID (and did:web domain) always; the trust list's
    name for a recognised issuer; the credential's own name only marked as its claim."""
    issuer_id = _text(summary.get("issuer_id"))
    if issuer_id is None:
        return []
    domain = _text(summary.get("issuer_domain"))
    identity = f"{issuer_id} ({domain})" if domain and domain not in issuer_id else issuer_id
    listed = _text(summary.get("issuer_name"))
    claimed = _text(summary.get("issuer_claimed_name"))
    facts: list[Fact] = []
    if summary.get("issuer_recognised") is True and listed:
        facts.append(Fact("Issuer", "Pengeluar", listed))
        facts.append(Fact("Issuer's verified identity", "Identiti pengeluar disahkan", identity))
        if claimed and claimed.casefold() != listed.casefold():
            facts.append(
                Fact(
                    "Name the credential claims (differs)",
                    "Nama yang didakwa (berbeza)",
                    claimed,
                )
            )
        return facts
    facts.append(
        Fact(
            "Issuer (not recognised)",
            "Pengeluar (tidak dikenali)",
            identity,
        )
    )
    if claimed:
        facts.append(
            Fact(
                "Name the credential claims (not verified)",
                "Nama yang didakwa (tidak disahkan)",
                claimed,
            )
        )
    return facts


def _facts(summary: Mapping[str, Any]) -> list[Fact]:
    facts: list[Fact] = _issuer_facts(summary)
    for keys, en, ms in _FACTS:
        for key in keys:
            text = _text(summary.get(key))
            if text:
                if key == "award_type":
                    text = _award_text(text)
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
    sentence = clean_bidi(str(item.get("message") or item.get("detail") or item.get("title") or ""))
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
        sentence_ms=CHECK_SENTENCES_MS.get((name, outcome), ""),
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
            codes = item.get("codes")
            out.append(
                ComponentView(
                    name=_text(item.get("achievement_name"))
                    or _text(item.get("credential_id"))
                    or "?",
                    credits=_text(item.get("credits")) or "",
                    verdict=VERDICTS[
                        normalize_verdict(
                            item.get("verdict"), verified=item.get("verified") is True
                        )
                    ],
                    codes=tuple(str(c) for c in codes) if isinstance(codes, list) else (),
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


def _stale(report: Mapping[str, Any]) -> list[StaleView]:
    out: list[StaleView] = []
    for item in report.get("stale") or []:
        if not isinstance(item, Mapping):
            continue
        ago_en, ago_ms = age_words(float(item.get("age_seconds") or 0))
        if item.get("kind") == "status_list":
            en = f"Status as of {ago_en}: the issuer's status list could not be fetched now."
            ms = f"Status setakat {ago_ms}: senarai status pengeluar tidak dapat diambil kini."
            code = "STALE_STATUS_LIST"
        else:
            en = f"Issuer's keys as of {ago_en}: the key document could not be fetched now."
            ms = f"Kunci pengeluar setakat {ago_ms}: dokumen kunci tidak dapat diambil kini."
            code = "STALE_KEY_DOCUMENT"
        out.append(StaleView(en, ms, code))
    return out


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
    sentence_ms = verdict.sentence_ms
    if report.get("verdict_reason") == "component":
        sentence_ms = COMPONENT_SENTENCES_MS.get(verdict.key, sentence_ms)
    award = summary.get("award_type")
    return ResultView(
        verified=verified,
        verdict=verdict,
        headline=headline,
        claims_checked=verdict.key not in ("invalid", "could_not_check"),
        facts=_facts(summary),
        components=_components(summary),
        checks=checks,
        errors=errors,
        warnings=warnings,
        sentence_ms=sentence_ms,
        issuer_recognised=summary.get("issuer_recognised") is True,
        collection=award if award in ("MMS", "CLR") else "",
        stale=_stale(report),
        checked_at=_human_date(str(report.get("checked_at") or "")),
    )
