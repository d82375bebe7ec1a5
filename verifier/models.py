"""Typed views of OB 3.0 / CLR 2.0 credentials and VC presentations, parsed once.

Untrusted JSON becomes these frozen dataclasses in one place (:func:`parse_credential`,
:func:`parse_presentation`); every check reads the typed view and never re-walks raw JSON. The
original mapping is kept as ``raw``: proofs are always checked over it, never over a model.

MQA facts are read from both credential formats sijil has issued: the published-vocabulary
format (every fact an OB 3.0 ``alignment`` whose ``targetType`` is one of the ``TARGET_*``
constants below, plus ``tag``) and the older one that used sijil's own context (top-level
``awardType``, achievement ``mqfLevel``, ``sltHours``, ``deliveryMode``,
``microCredentialCategory``, ``programmeCode``). Both yield the same typed view.

Parsing is lenient about what the checks do not need (unknown members are ignored, the JSON
Schema check judges conformance) and strict about what they do: a wrong-typed ``issuer``,
``validFrom`` or ``credentialStatus`` raises :class:`~contexts.errors.MalformedValueError` with
the JSON pointer of the culprit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from contexts.errors import MalformedValueError

__all__ = [
    "AWARD_TYPES",
    "TARGET_AWARD_TYPE",
    "TARGET_CATEGORY",
    "TARGET_DELIVERY_MODE",
    "TARGET_MQF_LEVEL",
    "TARGET_PROGRAMME",
    "TARGET_STUDENT_LEARNING_TIME",
    "Achievement",
    "Alignment",
    "Association",
    "Credential",
    "Identity",
    "IssuerRef",
    "Presentation",
    "ResultDescription",
    "ResultEntry",
    "StatusEntry",
    "Subject",
    "as_list",
    "is_presentation",
    "parse_credential",
    "parse_datetime",
    "parse_presentation",
    "types_of",
]


#: ``alignment.targetType`` of the MQA award type (``targetCode`` COC, COA or MMS).
TARGET_AWARD_TYPE = "ext:MQAAwardType"
#: ``alignment.targetType`` of the MQF level (``targetCode`` the level, e.g. ``"6"``).
TARGET_MQF_LEVEL = "ext:MQFLevel"
#: ``alignment.targetType`` of the student learning time (``targetCode`` hours, e.g. ``"120"``).
TARGET_STUDENT_LEARNING_TIME = "ext:StudentLearningTime"
#: ``alignment.targetType`` of the delivery mode (``targetCode`` e.g. ``"online"``).
TARGET_DELIVERY_MODE = "ext:DeliveryMode"
#: ``alignment.targetType`` of the micro-credential category (``programme-based`` ...).
TARGET_CATEGORY = "ext:MicroCredentialCategory"
#: ``alignment.targetType`` of a programme (``targetCode`` the programme code).
TARGET_PROGRAMME = "ext:Programme"
#: The MQA award types sijil issues.
AWARD_TYPES: frozenset[str] = frozenset({"COC", "COA", "MMS"})


def as_list(value: Any) -> list[Any]:
    """JSON-LD's "one value or an array" as a list (``None`` is the empty list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def types_of(node: Any) -> tuple[str, ...]:
    """The ``type`` strings of a JSON object (empty for anything else)."""
    if not isinstance(node, Mapping):
        return ()
    return tuple(t for t in as_list(node.get("type")) if isinstance(t, str))


def is_presentation(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` is a Verifiable Presentation (by ``type``)."""
    return "VerifiablePresentation" in types_of(doc)


def parse_datetime(value: Any, pointer: str) -> datetime:
    """An XML Schema ``dateTimeStamp`` (timezone required) as an aware UTC datetime.

    Raises ``MALFORMED_VALUE_ERROR`` (VC DM 2.0 section 4.9) for anything else.
    """
    if not isinstance(value, str):
        raise MalformedValueError(f"{pointer} must be a date-time string", pointer=pointer)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise MalformedValueError(
            f"{pointer} is not an ISO 8601 date-time: {value!r}", pointer=pointer
        ) from None
    if "T" not in text or parsed.tzinfo is None:
        raise MalformedValueError(
            f"{pointer} must be a date-time with a timezone: {value!r}", pointer=pointer
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+14:00 is well-formed but before the first representable UTC moment.
        raise MalformedValueError(
            f"{pointer} is outside the representable date range: {value!r}", pointer=pointer
        ) from None


def _str(node: Mapping[str, Any], key: str) -> str | None:
    value = node.get(key)
    return value if isinstance(value, str) else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _str(value, "id")
    return None


@dataclass(frozen=True)
class IssuerRef:
    """The credential's issuer: ``issuer`` as a URL string or a Profile object."""

    id: str
    name: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Identity:
    """An OB 3.0 ``IdentityObject`` from ``credentialSubject.identifier``."""

    identity_type: str | None
    hashed: bool
    identity_hash: str | None
    salt: str | None


@dataclass(frozen=True)
class Alignment:
    """An OB 3.0 ``Alignment`` of an achievement."""

    target_name: str | None
    target_url: str | None
    target_type: str | None
    target_code: str | None


@dataclass(frozen=True)
class ResultDescription:
    """An OB 3.0 ``ResultDescription``: how a result of the achievement is expressed."""

    id: str | None
    name: str | None
    result_type: str | None
    required_value: str | None
    allowed_value: tuple[str, ...]


@dataclass(frozen=True)
class Achievement:
    """An OB 3.0 ``Achievement`` with the MQA facts the checks read (either format).

    ``award_type`` is the ``ext:MQAAwardType`` alignment's code (``None`` in the older format,
    which put ``awardType`` on the credential); ``programme_code`` is the old
    ``programmeCode`` or, for a programme (``LearningProgram``), its ``ext:Programme``
    self-alignment's code.
    """

    raw: Mapping[str, Any]
    id: str | None
    name: str | None
    achievement_type: str | None
    human_code: str | None
    credits_available: Decimal | None
    mqf_level: int | None
    slt_hours: int | None
    programme_code: str | None
    alignments: tuple[Alignment, ...]
    result_descriptions: tuple[ResultDescription, ...]
    award_type: str | None = None
    delivery_mode: str | None = None
    category: str | None = None

    @property
    def label(self) -> str:
        """A short human name: ``name (humanCode)`` or the id."""
        if self.name and self.human_code:
            return f"{self.name} ({self.human_code})"
        return self.name or self.human_code or self.id or "unnamed achievement"


@dataclass(frozen=True)
class ResultEntry:
    """An OB 3.0 ``Result`` of the learner (``credentialSubject.result``)."""

    result_description: str | None
    value: str | None
    status: str | None
    achieved_level: str | None


@dataclass(frozen=True)
class Association:
    """A CLR 2.0 ``Association`` between two achievements."""

    association_type: str | None
    source_id: str | None
    target_id: str | None


@dataclass(frozen=True)
class StatusEntry:
    """One ``credentialStatus`` entry; ``pointer`` locates it in the credential."""

    raw: Mapping[str, Any]
    pointer: str
    id: str | None
    type: tuple[str, ...]
    status_purpose: str | None
    status_list_index: Any
    status_list_credential: str | None
    status_size: Any


@dataclass(frozen=True)
class Subject:
    """``credentialSubject``: OB ``AchievementSubject`` or CLR ``ClrSubject``."""

    raw: Mapping[str, Any]
    id: str | None
    types: tuple[str, ...]
    name: str | None
    identifiers: tuple[Identity, ...]
    achievements: tuple[Achievement, ...]
    credits_earned: Decimal | None
    results: tuple[ResultEntry, ...]
    associations: tuple[Association, ...]
    embedded: tuple[Any, ...]

    @property
    def learner_name(self) -> str | None:
        """The learner's name: an unhashed ``name`` identifier, else ``name``."""
        for identity in self.identifiers:
            if identity.identity_type == "name" and not identity.hashed:
                return identity.identity_hash
        return self.name

    @property
    def hashed_identities(self) -> frozenset[tuple[str, str, str]]:
        """``(identityType, identityHash, salt)`` of every hashed identifier."""
        return frozenset(
            (i.identity_type or "", i.identity_hash or "", i.salt or "")
            for i in self.identifiers
            if i.hashed and i.identity_hash
        )


@dataclass(frozen=True)
class Credential:
    """A verifiable credential (VC 2.0 or 1.1), OB 3.0 / CLR 2.0 aware."""

    raw: Mapping[str, Any]
    id: str | None
    types: tuple[str, ...]
    contexts: tuple[Any, ...]
    issuer: IssuerRef
    name: str | None
    #: ``COC``/``COA``/``MMS``: the older top-level ``awardType``, else the main achievement's
    #: ``ext:MQAAwardType`` alignment code (``None`` when neither says).
    award_type: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    is_vc1: bool
    status_entries: tuple[StatusEntry, ...]
    subject: Subject

    @property
    def is_clr(self) -> bool:
        """Whether this is a CLR 2.0 ``ClrCredential`` (an MMS in sijil)."""
        return "ClrCredential" in self.types

    @property
    def is_open_badge(self) -> bool:
        """Whether this is an OB 3.0 ``OpenBadgeCredential`` / ``AchievementCredential``."""
        return "OpenBadgeCredential" in self.types or "AchievementCredential" in self.types

    @property
    def achievement(self) -> Achievement | None:
        """The achievement the credential is about (a CLR's programme achievement first)."""
        if self.is_clr:
            programme = self.programme_achievement
            if programme is not None:
                return programme
        return self.subject.achievements[0] if self.subject.achievements else None

    @property
    def programme_achievement(self) -> Achievement | None:
        """A CLR's programme: the achievement others are ``isChildOf``, or a LearningProgram."""
        achievements = self.subject.achievements
        parents = {
            a.target_id for a in self.subject.associations if a.association_type == "isChildOf"
        }
        for achievement in achievements:
            if achievement.id is not None and achievement.id in parents:
                return achievement
        for achievement in achievements:
            if achievement.achievement_type == "LearningProgram":
                return achievement
        return achievements[0] if achievements else None

    @property
    def kind(self) -> str:
        """``COC`` / ``COA`` / ``MMS`` from the award type (the ``ext:MQAAwardType`` alignment,
        or the older ``awardType``) or the achievement type, else ``VC``."""
        if self.award_type in {"COC", "COA", "MMS"}:
            return self.award_type
        if self.is_clr:
            return "MMS"
        achievement = self.achievement
        if achievement is not None:
            if achievement.achievement_type == "CertificateOfCompletion":
                return "COC"
            if achievement.achievement_type == "MicroCredential":
                return "COA"
        return "VC"

    @property
    def credits(self) -> Decimal | None:
        """Credits this credential carries: ``creditsEarned``, else the achievement's available."""
        if self.subject.credits_earned is not None:
            return self.subject.credits_earned
        achievement = self.achievement
        return achievement.credits_available if achievement is not None else None


@dataclass(frozen=True)
class Presentation:
    """A Verifiable Presentation: holder and the credentials it carries (raw)."""

    raw: Mapping[str, Any]
    id: str | None
    types: tuple[str, ...]
    holder: str | None
    credentials: tuple[Any, ...]
    has_proof: bool


def _parse_issuer(value: Any) -> IssuerRef:
    if isinstance(value, str) and value:
        return IssuerRef(id=value)
    if isinstance(value, Mapping):
        issuer_id = value.get("id")
        if isinstance(issuer_id, str) and issuer_id:
            return IssuerRef(id=issuer_id, name=_str(value, "name"), url=_str(value, "url"))
    raise MalformedValueError(
        "issuer must be a URL or an object with an id (VC DM 2.0 section 4.7)", pointer="/issuer"
    )


def _parse_identity(node: Any) -> Identity | None:
    if not isinstance(node, Mapping):
        return None
    hashed = node.get("hashed")
    return Identity(
        identity_type=_str(node, "identityType"),
        hashed=hashed is True or hashed == "true",
        identity_hash=_str(node, "identityHash"),
        salt=_str(node, "salt"),
    )


def _parse_alignment(node: Any) -> Alignment | None:
    if not isinstance(node, Mapping):
        return None
    return Alignment(
        target_name=_str(node, "targetName"),
        target_url=_str(node, "targetUrl"),
        target_type=_str(node, "targetType"),
        target_code=_str(node, "targetCode"),
    )


def _parse_result_description(node: Any) -> ResultDescription | None:
    if not isinstance(node, Mapping):
        return None
    required = node.get("requiredValue")
    return ResultDescription(
        id=_str(node, "id"),
        name=_str(node, "name"),
        result_type=_str(node, "resultType"),
        required_value=str(required) if isinstance(required, str | int | float) else None,
        allowed_value=tuple(str(v) for v in as_list(node.get("allowedValue"))),
    )


def _aligned_code(alignments: Sequence[Alignment], target_type: str) -> str | None:
    """The ``targetCode`` of the first alignment of ``target_type``."""
    for alignment in alignments:
        if alignment.target_type == target_type and alignment.target_code:
            return alignment.target_code
    return None


def _level(code: str | None) -> int | None:
    """An MQF level code: ``"6"`` (and the older ``"MQF-6"``)."""
    if code is None:
        return None
    return _int(code.removeprefix("MQF-"))


def _parse_achievement(node: Any) -> Achievement | None:
    if isinstance(node, str):
        node = {"id": node}
    if not isinstance(node, Mapping):
        return None
    alignments = tuple(
        a for a in map(_parse_alignment, as_list(node.get("alignment"))) if a is not None
    )
    achievement_id = _str(node, "id")
    programme_code = _str(node, "programmeCode")
    if programme_code is None and _str(node, "achievementType") == "LearningProgram":
        programme_code = next(
            (
                a.target_code
                for a in alignments
                if a.target_type == TARGET_PROGRAMME and a.target_url == achievement_id
            ),
            None,
        )
    mqf_level = _int(node.get("mqfLevel"))
    if mqf_level is None:
        mqf_level = _level(_aligned_code(alignments, TARGET_MQF_LEVEL))
    slt_hours = _int(node.get("sltHours"))
    if slt_hours is None:
        slt_hours = _int(_aligned_code(alignments, TARGET_STUDENT_LEARNING_TIME))
    award_type = _aligned_code(alignments, TARGET_AWARD_TYPE)
    return Achievement(
        raw=node,
        id=achievement_id,
        name=_str(node, "name"),
        achievement_type=_str(node, "achievementType"),
        human_code=_str(node, "humanCode"),
        credits_available=_decimal(node.get("creditsAvailable")),
        mqf_level=mqf_level,
        slt_hours=slt_hours,
        programme_code=programme_code,
        alignments=alignments,
        award_type=award_type if award_type in AWARD_TYPES else None,
        delivery_mode=_str(node, "deliveryMode") or _aligned_code(alignments, TARGET_DELIVERY_MODE),
        category=_str(node, "microCredentialCategory")
        or _aligned_code(alignments, TARGET_CATEGORY),
        result_descriptions=tuple(
            r
            for r in map(_parse_result_description, as_list(node.get("resultDescription")))
            if r is not None
        ),
    )


def _parse_result(node: Any) -> ResultEntry | None:
    if not isinstance(node, Mapping):
        return None
    value = node.get("value")
    return ResultEntry(
        result_description=_id_of(node.get("resultDescription")),
        value=str(value) if isinstance(value, str | int | float) else None,
        status=_str(node, "status"),
        achieved_level=_id_of(node.get("achievedLevel")),
    )


def _parse_association(node: Any) -> Association | None:
    if not isinstance(node, Mapping):
        return None
    return Association(
        association_type=_str(node, "associationType"),
        source_id=_id_of(node.get("sourceId")),
        target_id=_id_of(node.get("targetId")),
    )


def _parse_subject(value: Any) -> Subject:
    nodes = as_list(value)
    if not nodes or not isinstance(nodes[0], Mapping):
        raise MalformedValueError(
            "credentialSubject must be an object (VC DM 2.0 section 4.8)",
            pointer="/credentialSubject",
        )
    node: Mapping[str, Any] = nodes[0]
    subject_id = node.get("id")
    if subject_id is not None and not isinstance(subject_id, str):
        raise MalformedValueError(
            "credentialSubject.id must be a URL", pointer="/credentialSubject/id"
        )
    return Subject(
        raw=node,
        id=subject_id,
        types=types_of(node),
        name=_str(node, "name"),
        identifiers=tuple(
            i for i in map(_parse_identity, as_list(node.get("identifier"))) if i is not None
        ),
        achievements=tuple(
            a for a in map(_parse_achievement, as_list(node.get("achievement"))) if a is not None
        ),
        credits_earned=_decimal(node.get("creditsEarned")),
        results=tuple(r for r in map(_parse_result, as_list(node.get("result"))) if r is not None),
        associations=tuple(
            a for a in map(_parse_association, as_list(node.get("association"))) if a is not None
        ),
        embedded=tuple(as_list(node.get("verifiableCredential"))),
    )


def _parse_status(value: Any) -> tuple[StatusEntry, ...]:
    entries: list[StatusEntry] = []
    many = isinstance(value, list)
    for index, node in enumerate(as_list(value)):
        pointer = f"/credentialStatus/{index}" if many else "/credentialStatus"
        if not isinstance(node, Mapping):
            raise MalformedValueError("credentialStatus must be an object", pointer=pointer)
        entries.append(
            StatusEntry(
                raw=node,
                pointer=pointer,
                id=_str(node, "id"),
                type=types_of(node),
                status_purpose=_str(node, "statusPurpose"),
                status_list_index=node.get("statusListIndex"),
                status_list_credential=_str(node, "statusListCredential"),
                status_size=node.get("statusSize", 1),
            )
        )
    return tuple(entries)


def _optional_datetime(doc: Mapping[str, Any], key: str) -> datetime | None:
    if key not in doc:
        return None
    return parse_datetime(doc[key], "/" + key)


def parse_credential(doc: Mapping[str, Any]) -> Credential:
    """Parse a JSON-LD credential into a :class:`Credential` (raw kept as given).

    Raises ``MALFORMED_VALUE_ERROR`` (pointer set) when a member the checks rely on has the
    wrong form; ``UNSUPPORTED_INPUT`` is the caller's job (this assumes a credential).
    """
    if not isinstance(doc, Mapping):
        raise MalformedValueError("a credential must be a JSON object", pointer="")
    types = types_of(doc)
    if "VerifiableCredential" not in types:
        raise MalformedValueError(
            "type must include VerifiableCredential (VC DM 2.0 section 4.5)", pointer="/type"
        )
    contexts = tuple(as_list(doc.get("@context")))
    is_vc1 = bool(contexts) and contexts[0] == "https://www.w3.org/2018/credentials/v1"
    valid_from = _optional_datetime(doc, "validFrom")
    if valid_from is None:
        valid_from = _optional_datetime(doc, "issuanceDate")
    valid_until = _optional_datetime(doc, "validUntil")
    if valid_until is None:
        valid_until = _optional_datetime(doc, "expirationDate")
    credential_id = doc.get("id")
    credential = Credential(
        raw=doc,
        id=credential_id if isinstance(credential_id, str) else None,
        types=types,
        contexts=contexts,
        issuer=_parse_issuer(doc.get("issuer")),
        name=_str(doc, "name"),
        award_type=_str(doc, "awardType"),
        valid_from=valid_from,
        valid_until=valid_until,
        is_vc1=is_vc1,
        status_entries=_parse_status(doc.get("credentialStatus")),
        subject=_parse_subject(doc.get("credentialSubject")),
    )
    if credential.award_type not in AWARD_TYPES:
        achievement = credential.achievement
        if achievement is not None and achievement.award_type is not None:
            return dataclasses.replace(credential, award_type=achievement.award_type)
    return credential


def parse_presentation(doc: Mapping[str, Any]) -> Presentation:
    """Parse a Verifiable Presentation; its credentials stay raw (each is verified alone)."""
    holder = doc.get("holder")
    holder_id = _id_of(holder)
    if holder is not None and holder_id is None:
        raise MalformedValueError("holder must be a URL or an object with an id", pointer="/holder")
    presentation_id = doc.get("id")
    credentials: Sequence[Any] = as_list(doc.get("verifiableCredential"))
    return Presentation(
        raw=doc,
        id=presentation_id if isinstance(presentation_id, str) else None,
        types=types_of(doc),
        holder=holder_id,
        credentials=tuple(credentials),
        has_proof=bool(as_list(doc.get("proof"))),
    )
