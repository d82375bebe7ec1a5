"""Pure builders of the unsigned COC, COA (OB 3.0) and MMS (CLR 2.0) credentials.

The shapes are exactly those of docs/ARCHITECTURE.md "Credential formats". Nothing here reads
the clock, the database or keys: ids, times, the issuer profile and the learner are passed in.
The output is a plain ``dict`` ready for :func:`keys.dataintegrity.add_proof`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contexts.loader import CLR_V2P0, OB_V3P0, SIJIL_CONTEXT_URL, VC_V2
from issuer.credentials.identity import learner_identifiers
from issuer.domain.awards import Result
from issuer.domain.catalogue import IssuerProfile, MicroCredentialSpec, ProgrammeSpec

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
]

OB_CONTEXTS: tuple[str, ...] = (VC_V2, OB_V3P0, SIJIL_CONTEXT_URL)
CLR_CONTEXTS: tuple[str, ...] = (VC_V2, CLR_V2P0, OB_V3P0, SIJIL_CONTEXT_URL)
#: The Malaysian Qualifications Framework (MQA), target of the MQF level alignment.
MQF_FRAMEWORK_URL = "https://www.mqa.gov.my/new/mqf.cfm"

_TITLES = {
    "COC": "Certificate of Completion",
    "COA": "Certificate of Achievement",
    "MMS": "Malaysian Micro-Credentials Statement",
}


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
    """The OB 3.0 ``Achievement`` of a micro-credential for a COC or a COA."""
    alignment: list[dict[str, Any]] = [
        {
            "type": ["Alignment"],
            "targetName": f"MQF Level {mc.mqf_level}",
            "targetUrl": f"{MQF_FRAMEWORK_URL}#level-{mc.mqf_level}",
            "targetCode": f"MQF-{mc.mqf_level}",
            "targetFramework": "Malaysian Qualifications Framework",
            "targetType": "ext:MQFLevel",
        }
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
                "targetType": "ext:Programme",
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
        "sltHours": mc.slt_hours,
        "mqfLevel": mc.mqf_level,
        "deliveryMode": mc.delivery_mode,
        "microCredentialCategory": mc.category,
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
    award_type: str,
    issuer: IssuerProfile,
    issued_at: datetime,
    credential_status: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": list(contexts),
        "id": credential_id,
        "type": ["VerifiableCredential", credential_type],
        "name": name,
        "awardType": award_type,
        "issuer": _issuer(issuer),
        "validFrom": iso_datetime(issued_at),
    }
    if credential_status:
        doc["credentialStatus"] = [dict(entry) for entry in credential_status]
    return doc


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
        award_type="COC",
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
        award_type="COA",
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
    unit_achievements = [dict(coa["credentialSubject"]["achievement"]) for coa in coas]
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
        "programmeCode": programme.code,
        "creditsAvailable": total,
        "mqfLevel": programme.mqf_level,
        "microCredentialCategory": "programme-based",
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": f"MQF Level {programme.mqf_level}",
                "targetUrl": f"{MQF_FRAMEWORK_URL}#level-{programme.mqf_level}",
                "targetCode": f"MQF-{programme.mqf_level}",
                "targetFramework": "Malaysian Qualifications Framework",
                "targetType": "ext:MQFLevel",
            }
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
        award_type="MMS",
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
