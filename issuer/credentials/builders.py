"""Pure builders of the unsigned COC, COA (OB 3.0) and MMS (CLR 2.0) credentials.

The shapes are exactly those of docs/ARCHITECTURE.md "Credential formats": published contexts
only (VC 2.0, OB 3.0.3, CLR 2.0.1) and every MQA fact as an OB 3.0 alignment and tag
(:mod:`issuer.credentials.vocabulary`). ``credentialStatus`` is one object when the issuer
allocated one entry (OB 3.0 allows at most one), a list otherwise. Nothing here reads
the clock, the database or keys: ids, times, the issuer profile and the learner are passed in.
The output is a plain ``dict`` ready for :func:`keys.dataintegrity.add_proof`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from contexts.loader import CLR_V2P0, OB_V3P0, VC_V2
from issuer.credentials.identity import learner_identifiers
from issuer.credentials.vocabulary import (
    AWARD_TYPE_NAMES,
    MQF_FRAMEWORK_URL,
    award_type_alignment,
    category_alignment,
    delivery_mode_alignment,
    fact_tags,
    mqf_level_alignment,
    slt_alignment,
)
from issuer.domain.awards import Result
from issuer.domain.catalogue import IssuerProfile, MicroCredentialSpec, ProgrammeSpec
from verifier import TARGET_MQF_LEVEL, TARGET_PROGRAMME

__all__ = [
    "CLR_CONTEXTS",
    "MQF_FRAMEWORK_URL",
    "OB_CONTEXTS",
    "LearnerIdentity",
    "achievement_url",
    "build_coa",
    "build_coc",
    "build_mms",
    "format_score",
    "iso_datetime",
    "micro_credential_achievement",
    "programme_achievement_url",
    "published_achievement",
    "status_member",
]

OB_CONTEXTS: tuple[str, ...] = (VC_V2, OB_V3P0)
CLR_CONTEXTS: tuple[str, ...] = (VC_V2, CLR_V2P0, OB_V3P0)

_TITLES = AWARD_TYPE_NAMES


@dataclass(frozen=True)
class LearnerIdentity:
    """What a credential says about its subject."""

    email: str
    name: str
    salt: str
    did: str | None = None


def iso_datetime(at: datetime) -> str:
    """XML Schema dateTime in UTC with a ``Z`` and whole seconds."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_score(score: Decimal) -> str:
    """A score as the shortest decimal string (``78``, ``78.5``)."""
    return format(score.normalize(), "f")


def achievement_url(base_url: str, mc_code: str, award_type: str) -> str:
    """``{BASE}/achievements/{code}/coc|coa``."""
    return f"{base_url}/achievements/{mc_code}/{award_type.lower()}"


def programme_achievement_url(base_url: str, programme_code: str, unit: str | None = None) -> str:
    """``{BASE}/achievements/{prog}/mms`` (``/mms/{unit}`` for a per-unit MMS)."""
    url = f"{base_url}/achievements/{programme_code}/mms"
    return f"{url}/{unit}" if unit else url


def _issuer(profile: IssuerProfile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": profile.did,
        "type": ["Profile"],
        "name": profile.name,
        "url": profile.url,
        "email": profile.email,
    }
    if profile.image:
        out["image"] = {"id": profile.image, "type": "Image"}
    return out


def _criteria(mc: MicroCredentialSpec, award_type: str) -> str:
    if mc.criteria:
        return mc.criteria
    materials = ", ".join(m.title for m in mc.materials)
    if award_type == "COC":
        return f"Completed every learning material of {mc.title}: {materials}."
    assessments = ", ".join(
        f"{a.title} (pass mark {format_score(a.pass_mark)}%)" for a in mc.assessments
    )
    if materials:
        return (
            f"Completed every learning material of {mc.title} ({materials}) and passed every "
            f"assessment: {assessments}."
        )
    return f"Passed every assessment of {mc.title}: {assessments}."


def _result_description_id(base_url: str, mc_code: str, assessment: str) -> str:
    return f"{base_url}/achievements/{mc_code}/results/{assessment}"


def micro_credential_achievement(
    mc: MicroCredentialSpec,
    award_type: str,
    *,
    base_url: str,
    programmes: Sequence[ProgrammeSpec] = (),
) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` of a micro-credential for a COC or a COA.

    Alignments: award type, MQF level, student learning time, delivery mode, category, then
    each learning outcome and each programme the micro-credential belongs to.
    """
    alignment: list[dict[str, Any]] = [
        award_type_alignment(base_url, award_type),
        mqf_level_alignment(mc.mqf_level),
        slt_alignment(base_url, mc.slt_hours),
        delivery_mode_alignment(base_url, mc.delivery_mode),
        category_alignment(base_url, mc.category),
    ]
    for i, outcome in enumerate(mc.learning_outcomes, start=1):
        alignment.append(
            {
                "type": ["Alignment"],
                "targetName": outcome,
                "targetUrl": f"{base_url}/achievements/{mc.code}/outcomes/{i}",
                "targetCode": f"{mc.code}-LO{i}",
                "targetType": "ext:LearningOutcome",
            }
        )
    for programme in programmes:
        alignment.append(
            {
                "type": ["Alignment"],
                "targetName": programme.title,
                "targetUrl": programme_achievement_url(base_url, programme.code),
                "targetCode": programme.code,
                "targetType": TARGET_PROGRAMME,
            }
        )
    achievement: dict[str, Any] = {
        "id": achievement_url(base_url, mc.code, award_type),
        "type": ["Achievement"],
        "achievementType": "MicroCredential" if award_type == "COA" else "CertificateOfCompletion",
        "name": mc.title,
        "description": mc.description,
        "criteria": {"narrative": _criteria(mc, award_type)},
        "humanCode": mc.code,
        "creditsAvailable": mc.credits,
        "tag": fact_tags(
            award_type,
            mqf_level=mc.mqf_level,
            slt_hours=mc.slt_hours,
            delivery_mode=mc.delivery_mode,
            category=mc.category,
        ),
        "alignment": alignment,
    }
    if award_type == "COA" and mc.assessments:
        achievement["resultDescription"] = [
            {
                "id": _result_description_id(base_url, mc.code, a.code),
                "type": ["ResultDescription"],
                "name": a.title,
                "resultType": "Percent",
                "requiredValue": format_score(a.pass_mark),
                "valueMin": "0",
                "valueMax": "100",
            }
            for a in mc.assessments
        ]
    return achievement


#: Achievement members of the retired sijil context (credentials issued before the move to
#: published vocabulary): a COA signed then is embedded verbatim, but its achievement copied
#: into an MMS is restated with alignments so the MMS names only published terms.
_RETIRED_TERMS: Final = ("sltHours", "mqfLevel", "deliveryMode", "microCredentialCategory")


def published_achievement(achievement: Mapping[str, Any], *, base_url: str) -> dict[str, Any]:
    """A unit achievement in the published-vocabulary format (a copy; unchanged when it
    already is). The award type follows ``achievementType`` (``MicroCredential`` -> COA)."""
    if not any(term in achievement for term in _RETIRED_TERMS):
        return dict(achievement)
    out = {k: v for k, v in achievement.items() if k not in _RETIRED_TERMS}
    award_type = "COC" if achievement.get("achievementType") == "CertificateOfCompletion" else "COA"
    level = achievement.get("mqfLevel")
    hours = achievement.get("sltHours")
    mode = achievement.get("deliveryMode")
    category = achievement.get("microCredentialCategory")
    facts: list[dict[str, Any]] = [award_type_alignment(base_url, award_type)]
    if isinstance(level, int):
        facts.append(mqf_level_alignment(level))
    if isinstance(hours, int):
        facts.append(slt_alignment(base_url, hours))
    if isinstance(mode, str):
        facts.append(delivery_mode_alignment(base_url, mode))
    if isinstance(category, str):
        facts.append(category_alignment(base_url, category))
    kept = [
        a
        for a in achievement.get("alignment", [])
        if isinstance(a, Mapping) and a.get("targetType") != TARGET_MQF_LEVEL
    ]
    out["alignment"] = facts + kept
    if isinstance(level, int):
        out["tag"] = fact_tags(
            award_type,
            mqf_level=level,
            slt_hours=hours if isinstance(hours, int) else None,
            delivery_mode=mode if isinstance(mode, str) else None,
            category=category if isinstance(category, str) else None,
        )
    return out


def _subject_base(learner: LearnerIdentity, subject_type: str) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": [subject_type]}
    if learner.did:
        subject["id"] = learner.did
    subject["identifier"] = learner_identifiers(learner.email, learner.name, learner.salt)
    return subject


def _envelope(
    contexts: Sequence[str],
    credential_type: str,
    *,
    credential_id: str,
    name: str,
    issuer: IssuerProfile,
    issued_at: datetime,
    credential_status: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": list(contexts),
        "id": credential_id,
        "type": ["VerifiableCredential", credential_type],
        "name": name,
        "issuer": _issuer(issuer),
        "validFrom": iso_datetime(issued_at),
    }
    status = status_member(credential_status)
    if status is not None:
        doc["credentialStatus"] = status
    return doc


def status_member(
    entries: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any] | list[dict[str, Any]] | None:
    """The ``credentialStatus`` value for ``entries``: one entry as an object (the only form
    OB 3.0 and CLR 2.0 allow), several as a list (suspension on), none as ``None``."""
    if not entries:
        return None
    if len(entries) == 1:
        return dict(entries[0])
    return [dict(entry) for entry in entries]


def build_coc(
    mc: MicroCredentialSpec,
    learner: LearnerIdentity,
    *,
    issuer: IssuerProfile,
    base_url: str,
    credential_id: str,
    issued_at: datetime,
    programmes: Sequence[ProgrammeSpec] = (),
    credential_status: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Unsigned COC: an ``OpenBadgeCredential`` with a ``CertificateOfCompletion`` achievement."""
    doc = _envelope(
        OB_CONTEXTS,
        "OpenBadgeCredential",
        credential_id=credential_id,
        name=f"{_TITLES['COC']}: {mc.title}",
        issuer=issuer,
        issued_at=issued_at,
        credential_status=credential_status,
    )
    subject = _subject_base(learner, "AchievementSubject")
    subject["achievement"] = micro_credential_achievement(
        mc, "COC", base_url=base_url, programmes=programmes
    )
    doc["credentialSubject"] = subject
    return doc


def build_coa(
    mc: MicroCredentialSpec,
    learner: LearnerIdentity,
    results: Mapping[str, Result],
    *,
    issuer: IssuerProfile,
    base_url: str,
    credential_id: str,
    issued_at: datetime,
    programmes: Sequence[ProgrammeSpec] = (),
    credential_status: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Unsigned COA: ``MicroCredential`` achievement, ``creditsEarned`` and one ``Result`` per
    assessment, its value the score in percent against the assessment's ``ResultDescription``
    (``resultType`` ``Percent``, ``requiredValue`` the pass mark). Letter grades stay in the
    database (OB 3.0 would need a ``LetterGrade`` ResultDescription with its allowed values).

    ``results`` maps assessment codes to the learner's results; every assessment must be there.
    """
    doc = _envelope(
        OB_CONTEXTS,
        "OpenBadgeCredential",
        credential_id=credential_id,
        name=f"{_TITLES['COA']}: {mc.title}",
        issuer=issuer,
        issued_at=issued_at,
        credential_status=credential_status,
    )
    subject = _subject_base(learner, "AchievementSubject")
    achievement = micro_credential_achievement(mc, "COA", base_url=base_url, programmes=programmes)
    subject["achievement"] = achievement
    subject["creditsEarned"] = mc.credits
    result_list: list[dict[str, Any]] = []
    for a in mc.assessments:
        res = results[a.code]
        result_list.append(
            {
                "type": ["Result"],
                "resultDescription": _result_description_id(base_url, mc.code, a.code),
                "value": format_score(res.score),
                "status": "Completed",
            }
        )
    subject["result"] = result_list
    doc["credentialSubject"] = subject
    return doc


def build_mms(
    programme: ProgrammeSpec,
    learner: LearnerIdentity,
    coas: Sequence[Mapping[str, Any]],
    *,
    issuer: IssuerProfile,
    base_url: str,
    credential_id: str,
    issued_at: datetime,
    unit: str | None = None,
    credential_status: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Unsigned MMS: a ``ClrCredential`` embedding the learner's signed COAs verbatim.

    The programme achievement (``LearningProgram``) has ``creditsAvailable`` = the sum of the
    embedded COAs' ``creditsEarned``; each unit achievement ``isChildOf`` it and it ``isPartOf``
    the degree programme when one is mapped. ``unit`` makes a per-unit MMS.
    """
    programme_id = programme_achievement_url(base_url, programme.code, unit)
    total = sum(int(coa["credentialSubject"].get("creditsEarned", 0)) for coa in coas)
    unit_achievements = [
        published_achievement(coa["credentialSubject"]["achievement"], base_url=base_url)
        for coa in coas
    ]
    title = programme.title
    if unit is not None:
        unit_title = unit_achievements[0]["name"] if unit_achievements else unit
        title = f"{programme.title}: {unit_title}"
    programme_achievement: dict[str, Any] = {
        "id": programme_id,
        "type": ["Achievement"],
        "achievementType": "LearningProgram",
        "name": title,
        "description": programme.description,
        "criteria": {
            "narrative": "Holds a Certificate of Achievement for every component: "
            + ", ".join(a["name"] for a in unit_achievements)
            + "."
        },
        "humanCode": programme.code,
        "creditsAvailable": total,
        "tag": fact_tags("MMS", mqf_level=programme.mqf_level, category="programme-based"),
        "alignment": [
            award_type_alignment(base_url, "MMS"),
            mqf_level_alignment(programme.mqf_level),
            category_alignment(base_url, "programme-based"),
            # The programme code, as on every component's programme alignment.
            {
                "type": ["Alignment"],
                "targetName": programme.title,
                "targetUrl": programme_id,
                "targetCode": programme.code,
                "targetType": TARGET_PROGRAMME,
            },
        ],
    }
    associations: list[dict[str, Any]] = [
        {
            "type": "Association",
            "associationType": "isChildOf",
            "sourceId": a["id"],
            "targetId": programme_id,
        }
        for a in unit_achievements
    ]
    if programme.degree_programme_url:
        associations.append(
            {
                "type": "Association",
                "associationType": "isPartOf",
                "sourceId": programme_id,
                "targetId": programme.degree_programme_url,
            }
        )
    doc = _envelope(
        CLR_CONTEXTS,
        "ClrCredential",
        credential_id=credential_id,
        name=f"{_TITLES['MMS']}: {title}",
        issuer=issuer,
        issued_at=issued_at,
        credential_status=credential_status,
    )
    subject = _subject_base(learner, "ClrSubject")
    subject["achievement"] = [programme_achievement, *unit_achievements]
    subject["verifiableCredential"] = [dict(coa) for coa in coas]
    subject["association"] = associations
    doc["credentialSubject"] = subject
    return doc
