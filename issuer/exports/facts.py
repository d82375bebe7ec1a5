"""What a printed certificate or a learner page shows, read from a signed credential.

Pure: :func:`certificate_facts` takes the credential JSON the issuer built (OB 3.0
``OpenBadgeCredential`` for COC/COA, CLR 2.0 ``ClrCredential`` for MMS, formats in
docs/ARCHITECTURE.md) and returns plain values; it never verifies (the issuer verified the
credential before storing it) and never touches the network.

Errors: ``MALFORMED_VALUE_ERROR`` when the credential lacks the parts every sijil credential has
(id, issuer, achievement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from contexts.errors import MalformedValueError
from verifier import AWARD_LABELS, parse_credential

__all__ = ["AWARD_LABELS", "CertificateFacts", "ComponentFacts", "certificate_facts"]


@dataclass(frozen=True)
class ComponentFacts:
    """One COA stacked into an MMS."""

    name: str
    code: str
    credits: int | None
    credential_id: str


@dataclass(frozen=True)
class CertificateFacts:
    """The human-readable facts of one credential."""

    credential_id: str
    award_type: str
    title: str
    achievement_name: str
    achievement_code: str
    learner_name: str
    issuer_name: str
    issued_on: date
    credits: int | None
    mqf_level: int | None
    components: tuple[ComponentFacts, ...] = ()

    @property
    def label_en(self) -> str:
        """The award's English title (``Certificate of Achievement``)."""
        return AWARD_LABELS.get(self.award_type, (self.title, self.title))[0]

    @property
    def label_ms(self) -> str:
        """The award's Malay title (``Sijil Pencapaian``)."""
        return AWARD_LABELS.get(self.award_type, (self.title, self.title))[1]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _issued_on(credential: Mapping[str, Any]) -> date:
    raw = _text(credential.get("validFrom")) or _text(credential.get("awardedDate"))
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedValueError(
            "credential has no readable validFrom", pointer="/validFrom"
        ) from exc
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).date()


def _learner_name(subject: Mapping[str, Any]) -> str:
    identifiers = subject.get("identifier")
    if isinstance(identifiers, Sequence) and not isinstance(identifiers, str):
        for item in identifiers:
            if (
                isinstance(item, Mapping)
                and item.get("identityType") == "name"
                and item.get("hashed") is False
            ):
                return _text(item.get("identityHash"))
    return _text(subject.get("name"))


def _achievements(subject: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = subject.get("achievement")
    if isinstance(raw, Mapping):
        return [raw]
    if isinstance(raw, Sequence) and not isinstance(raw, str):
        return [a for a in raw if isinstance(a, Mapping)]
    return []


def _components(subject: Mapping[str, Any]) -> tuple[ComponentFacts, ...]:
    embedded = subject.get("verifiableCredential")
    if not isinstance(embedded, Sequence) or isinstance(embedded, str):
        return ()
    out: list[ComponentFacts] = []
    for item in embedded:
        if not isinstance(item, Mapping):
            continue
        inner = item.get("credentialSubject")
        achievements = _achievements(inner) if isinstance(inner, Mapping) else []
        if not achievements:
            continue
        first = achievements[0]
        credits = _int(inner.get("creditsEarned")) if isinstance(inner, Mapping) else None
        out.append(
            ComponentFacts(
                name=_text(first.get("name")),
                code=_text(first.get("humanCode")),
                credits=credits if credits is not None else _int(first.get("creditsAvailable")),
                credential_id=_text(item.get("id")),
            )
        )
    return tuple(out)


def certificate_facts(credential: Mapping[str, Any]) -> CertificateFacts:
    """The facts a certificate prints for ``credential`` (COC, COA or MMS).

    Raises ``MALFORMED_VALUE_ERROR`` when the id, issuer or achievement is missing.
    """
    credential_id = _text(credential.get("id"))
    if not credential_id:
        raise MalformedValueError("credential has no id", pointer="/id")
    issuer = credential.get("issuer")
    issuer_name = _text(issuer.get("name")) if isinstance(issuer, Mapping) else _text(issuer)
    if not issuer_name:
        raise MalformedValueError("credential has no issuer name", pointer="/issuer")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise MalformedValueError("credential has no subject", pointer="/credentialSubject")
    achievements = _achievements(subject)
    if not achievements:
        raise MalformedValueError(
            "credential has no achievement", pointer="/credentialSubject/achievement"
        )
    main = achievements[0]
    credits = _int(subject.get("creditsEarned"))
    if credits is None:
        credits = _int(main.get("creditsAvailable"))
    # The MQA facts (award type, MQF level, programme code) are read by the verifier's model,
    # which knows both the published-vocabulary format and the older one.
    model = parse_credential(credential)
    achievement = model.achievement
    kind = model.kind
    return CertificateFacts(
        credential_id=credential_id,
        award_type=kind if kind in AWARD_LABELS else "",
        title=_text(credential.get("name")),
        achievement_name=_text(main.get("name")),
        achievement_code=_text(main.get("humanCode"))
        or (achievement.programme_code or "" if achievement is not None else ""),
        learner_name=_learner_name(subject),
        issuer_name=issuer_name,
        issued_on=_issued_on(credential),
        credits=credits,
        mqf_level=achievement.mqf_level if achievement is not None else None,
        components=_components(subject),
    )
