"""Credit-transfer evaluation for a receiving university (pure: no I/O, time injected).

Input: verification reports (:func:`verifier.report.verify_credential` of MMSs, COAs, COCs or
presentations holding them) and a :class:`TransferPolicy` for one receiving programme. Output:
a :class:`TransferResult`: per credential accepted or rejected with a reason code and sentence,
the credits per target course, and the total, capped at ``maxTransferShare * totalCredits``.

Policy file (JSON), with the defaults used when a member is absent::

    {
      "name": "BSc Data Science, 30 % cap",  # shown on the /credit-transfer page's list
      "programme": {"id": "...", "name": "BSc Data Science"},   # shown in the result
      "totalCredits": 120,                # credits of the receiving programme
      "maxTransferShare": 0.30,           # at most this share of totalCredits transfers
      "minMqfLevel": null,                # e.g. 6: COAs below this MQF level are refused
      "minGrade": null,                   # e.g. "B": letter grade on gradeScale ...
      "minScore": null,                   # ... or a minimum percentage, e.g. 65
      "maxAgeYears": 5,                   # COAs awarded longer ago are refused (null: no limit)
      "acceptedIssuers": [],              # issuer ids; empty: any issuer the verifier
                                          # recognises (never "anyone": see below)
      "courseMapping": [                  # achievement id or humanCode -> course and credits
        {"achievement": "DAF101", "course": "XYZ1234", "credits": 3}
      ],
      "allowUnsignedPresentations": false,  # accept a presentation without the holder's proof
      "allowPartialCredit": false,        # true: the course reaching the cap gets what is left
      "notionalHoursPerCredit": null,     # e.g. 40 (MQA): a stand-alone micro-credential must
                                          # show 40 notional learning hours (sltHours) for
                                          # each credit of the course it is mapped to
      "gradeScale": [{"grade": "A", "minScore": 80}, ...]   # best first; default below
    }

Every credential must be about one learner (same ``credentialSubject.id``, or the same salted
identity hash): credentials about more than one learner refuse the whole request
(``LEARNER_MISMATCH``, nothing transfers). The learner is part of the result.

Rules, in order, for each COA (credentials are taken in input order; an MMS and a presentation
are expanded into their credentials, an MMS's only when the MMS itself verifies,
``CONTAINER_NOT_VERIFIED``): it must verify (``NOT_VERIFIED``) and come from an issuer on the
verifier's trust list (``ISSUER_NOT_TRUSTED``: a signature alone proves nothing about who the
signer is, so ``acceptedIssuers: []`` means "any recognised issuer", never "anyone"); a COC
never carries credit (``COC_NO_CREDIT``) and other credentials are not micro-credentials
(``NOT_A_MICROCREDENTIAL``); issuer accepted (``ISSUER_NOT_ACCEPTED``); not counted before
(``DUPLICATE``); MQF level (``MQF_LEVEL_TOO_LOW`` / ``MQF_LEVEL_UNKNOWN``); age
(``TOO_OLD``); grade (``GRADE_TOO_LOW`` / ``GRADE_MISSING``); a course mapping
(``NO_COURSE_MAPPING``) for a course not yet credited (``COURSE_ALREADY_CREDITED``); and room
under the cap (``CAP_REACHED``). With ``notionalHoursPerCredit`` set, a stand-alone
micro-credential (``microCredentialCategory`` ``stand-alone``) must state its notional learning
hours (``HOURS_UNKNOWN``) and have at least that many hours per credit of its course
(``TOO_FEW_HOURS``): the MQA's 40 hours per credit. Whole courses only, unless
``allowPartialCredit``. An MMS itself is listed as ``EVALUATED_BY_COMPONENT`` (its COAs
carry the credit).

Errors: ``MALFORMED_VALUE_ERROR`` (pointer into the policy) for a malformed policy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from contexts.errors import MalformedValueError, ParsingError

from .models import Achievement, Credential, Subject
from .stacking import same_learner

__all__ = [
    "DEFAULT_GRADE_SCALE",
    "CourseCredit",
    "CourseMapping",
    "Decision",
    "TransferLearner",
    "TransferPolicy",
    "TransferResult",
    "credits_text",
    "evaluate_transfer",
    "load_policy",
]

#: Letter grades, best first, with the minimum percentage for each (a common Malaysian scale).
DEFAULT_GRADE_SCALE: tuple[tuple[str, Decimal], ...] = tuple(
    (grade, Decimal(score))
    for grade, score in (
        ("A+", 90),
        ("A", 80),
        ("A-", 75),
        ("B+", 70),
        ("B", 65),
        ("B-", 60),
        ("C+", 55),
        ("C", 50),
        ("C-", 45),
        ("D+", 40),
        ("D", 35),
        ("E", 30),
        ("F", 0),
    )
)
_YEAR = timedelta(days=365.25)


class _Report(Protocol):
    """What the evaluation reads of a :class:`verifier.report.VerificationReport`."""

    @property
    def verified(self) -> bool: ...
    @property
    def verdict(self) -> str: ...
    @property
    def headline(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def model(self) -> Credential | None: ...
    @property
    def parts(self) -> Sequence[Any]: ...
    @property
    def errors(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def checks(self) -> Mapping[str, Any]: ...
    @property
    def presentation_accepted(self) -> bool | None: ...


def _decimal(value: Any, pointer: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedValueError(f"{pointer} must be a number", pointer=pointer)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MalformedValueError(f"{pointer} must be a number", pointer=pointer) from None
    if not number.is_finite() or number < 0:
        raise MalformedValueError(f"{pointer} must be a non-negative number", pointer=pointer)
    return number


@dataclass(frozen=True)
class CourseMapping:
    """A micro-credential achievement (id or humanCode) credited as a course."""

    achievement: str
    course: str
    credits: Decimal


@dataclass(frozen=True)
class TransferPolicy:
    """One receiving programme's credit-transfer policy (see the module docstring)."""

    programme: Mapping[str, Any] = field(default_factory=dict)
    total_credits: Decimal = Decimal(120)
    max_transfer_share: Decimal = Decimal("0.30")
    min_mqf_level: int | None = None
    min_grade: str | None = None
    min_score: Decimal | None = None
    max_age_years: Decimal | None = Decimal(5)
    accepted_issuers: tuple[str, ...] = ()
    course_mapping: tuple[CourseMapping, ...] = ()
    allow_unsigned_presentations: bool = False
    allow_partial_credit: bool = False
    grade_scale: tuple[tuple[str, Decimal], ...] = DEFAULT_GRADE_SCALE
    #: MQA: notional learning hours per credit a stand-alone micro-credential must show.
    notional_hours_per_credit: Decimal | None = None

    @property
    def cap(self) -> Decimal:
        """The most credits that may transfer: ``maxTransferShare * totalCredits``."""
        return self.total_credits * self.max_transfer_share

    @classmethod
    def from_dict(cls, data: Any) -> TransferPolicy:
        """Parse a policy document; raises ``MALFORMED_VALUE_ERROR`` with a pointer."""
        if not isinstance(data, Mapping):
            raise MalformedValueError("a transfer policy is a JSON object", pointer="")
        programme = data.get("programme", {})
        if not isinstance(programme, Mapping):
            raise MalformedValueError("programme must be an object", pointer="/programme")
        share = _decimal(data.get("maxTransferShare", "0.30"), "/maxTransferShare")
        if share > 1:
            raise MalformedValueError(
                "maxTransferShare is a fraction from 0 to 1", pointer="/maxTransferShare"
            )
        min_level = data.get("minMqfLevel")
        if min_level is not None and (
            isinstance(min_level, bool) or not isinstance(min_level, int)
        ):
            raise MalformedValueError("minMqfLevel must be an integer", pointer="/minMqfLevel")
        scale = DEFAULT_GRADE_SCALE
        if "gradeScale" in data:
            raw_scale = data["gradeScale"]
            if not isinstance(raw_scale, list) or not raw_scale:
                raise MalformedValueError("gradeScale must be a list", pointer="/gradeScale")
            entries: list[tuple[str, Decimal]] = []
            for index, entry in enumerate(raw_scale):
                if not isinstance(entry, Mapping) or not isinstance(entry.get("grade"), str):
                    raise MalformedValueError(
                        "each grade needs a grade name", pointer=f"/gradeScale/{index}"
                    )
                entries.append(
                    (entry["grade"], _decimal(entry.get("minScore"), f"/gradeScale/{index}"))
                )
            scale = tuple(entries)
        min_grade = data.get("minGrade")
        if min_grade is not None and (
            not isinstance(min_grade, str) or min_grade not in {g for g, _ in scale}
        ):
            raise MalformedValueError(
                f"minGrade {min_grade!r} is not on the grade scale", pointer="/minGrade"
            )
        min_score = data.get("minScore")
        max_age = data.get("maxAgeYears", 5)
        issuers = data.get("acceptedIssuers", [])
        if not isinstance(issuers, list) or not all(isinstance(i, str) for i in issuers):
            raise MalformedValueError(
                "acceptedIssuers must be a list of issuer ids", pointer="/acceptedIssuers"
            )
        mappings: list[CourseMapping] = []
        raw_mapping = data.get("courseMapping", [])
        if not isinstance(raw_mapping, list):
            raise MalformedValueError("courseMapping must be a list", pointer="/courseMapping")
        for index, entry in enumerate(raw_mapping):
            pointer = f"/courseMapping/{index}"
            if (
                not isinstance(entry, Mapping)
                or not isinstance(entry.get("achievement"), str)
                or not isinstance(entry.get("course"), str)
            ):
                raise MalformedValueError(
                    "each course mapping needs achievement and course strings", pointer=pointer
                )
            mappings.append(
                CourseMapping(
                    entry["achievement"],
                    entry["course"],
                    _decimal(entry.get("credits"), pointer + "/credits"),
                )
            )
        hours = data.get("notionalHoursPerCredit")
        hours_per_credit = _decimal(hours, "/notionalHoursPerCredit") if hours is not None else None
        if hours_per_credit is not None and hours_per_credit == 0:
            raise MalformedValueError(
                "notionalHoursPerCredit must be positive", pointer="/notionalHoursPerCredit"
            )
        for flag in ("allowUnsignedPresentations", "allowPartialCredit"):
            if not isinstance(data.get(flag, False), bool):
                raise MalformedValueError(f"{flag} must be true or false", pointer="/" + flag)
        return cls(
            programme=dict(programme),
            total_credits=_decimal(data.get("totalCredits", 120), "/totalCredits"),
            max_transfer_share=share,
            min_mqf_level=min_level,
            min_grade=min_grade,
            min_score=_decimal(min_score, "/minScore") if min_score is not None else None,
            max_age_years=_decimal(max_age, "/maxAgeYears") if max_age is not None else None,
            accepted_issuers=tuple(issuers),
            course_mapping=tuple(mappings),
            allow_unsigned_presentations=bool(data.get("allowUnsignedPresentations", False)),
            allow_partial_credit=bool(data.get("allowPartialCredit", False)),
            grade_scale=scale,
            notional_hours_per_credit=hours_per_credit,
        )

    def mapping_for(self, credential: Credential) -> CourseMapping | None:
        """The course mapping for the credential's achievement (by id, then humanCode)."""
        achievement = credential.achievement
        if achievement is None:
            return None
        keys = [k for k in (achievement.id, achievement.human_code) if k]
        for key in keys:
            for mapping in self.course_mapping:
                if mapping.achievement == key:
                    return mapping
        return None

    def grade_for(self, score: Decimal) -> str:
        """The letter grade of a percentage on this policy's scale."""
        for grade, minimum in self.grade_scale:
            if score >= minimum:
                return grade
        return self.grade_scale[-1][0]

    def grade_rank(self, grade: str) -> int | None:
        """Position on the scale (0 = best), or ``None`` for an unknown letter."""
        for index, (name, _minimum) in enumerate(self.grade_scale):
            if name == grade:
                return index
        return None


def load_policy(path: str | Path) -> TransferPolicy:
    """Read a policy file; raises ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParsingError(f"cannot read policy {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParsingError(f"policy {path} is not JSON: {exc}") from None
    return TransferPolicy.from_dict(data)


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class Decision:
    """The outcome for one credential."""

    credential_id: str | None
    achievement_id: str | None
    achievement_name: str | None
    issuer_id: str | None
    award_type: str | None
    accepted: bool
    code: str
    reason: str
    course: str | None = None
    credits: Decimal | None = None
    grade: str | None = None
    learner_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "credential_id": self.credential_id,
            "learner_name": self.learner_name,
            "achievement_id": self.achievement_id,
            "achievement_name": self.achievement_name,
            "issuer_id": self.issuer_id,
            "award_type": self.award_type,
            "decision": "accepted" if self.accepted else "rejected",
            "code": self.code,
            "reason": self.reason,
            "course": self.course,
            "credits": _num(self.credits),
            "grade": self.grade,
        }


@dataclass(frozen=True)
class CourseCredit:
    """Credits granted for one target course."""

    course: str
    credits: Decimal
    achievement_id: str | None
    credential_id: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "course": self.course,
            "credits": _num(self.credits),
            "achievement_id": self.achievement_id,
            "credential_id": self.credential_id,
        }


@dataclass(frozen=True)
class TransferLearner:
    """Who the credentials are about: name, subject id and the hashed identity (if any)."""

    name: str | None
    id: str | None
    identity: str | None

    @classmethod
    def from_subject(cls, subject: Subject) -> TransferLearner:
        """From a credential's subject (the first hashed identifier stands for the rest)."""
        hashed = sorted(subject.hashed_identities)
        identity = f"{hashed[0][0]} {hashed[0][1]}" if hashed else None
        return cls(name=subject.learner_name, id=subject.id, identity=identity)

    @property
    def label(self) -> str:
        """The name, else the subject id, else the hashed identity."""
        return self.name or self.id or self.identity or "an unnamed learner"

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {"name": self.name, "id": self.id, "identity": self.identity}


@dataclass(frozen=True)
class TransferResult:
    """The evaluation: the learner, decisions in input order, courses credited, the total.

    ``refused`` is ``LEARNER_MISMATCH`` when the credentials are about several learners
    (``learners`` lists them; ``learner`` is then ``None``).
    """

    programme: Mapping[str, Any]
    total_credits: Decimal
    cap: Decimal
    transferred: Decimal
    courses: tuple[CourseCredit, ...]
    decisions: tuple[Decision, ...]
    learner: TransferLearner | None = None
    learners: tuple[TransferLearner, ...] = ()
    refused: str | None = None

    @property
    def accepted(self) -> tuple[Decision, ...]:
        """Accepted decisions."""
        return tuple(d for d in self.decisions if d.accepted)

    @property
    def rejected(self) -> tuple[Decision, ...]:
        """Rejected decisions."""
        return tuple(d for d in self.decisions if not d.accepted)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{"programme", "learner", "learners", "refused", "total_credits", "cap",
        "transferred", "courses", "decisions"}``."""
        return {
            "programme": dict(self.programme),
            "learner": self.learner.to_dict() if self.learner else None,
            "learners": [learner.to_dict() for learner in self.learners],
            "refused": self.refused,
            "total_credits": _num(self.total_credits),
            "cap": _num(self.cap),
            "transferred": _num(self.transferred),
            "courses": [c.to_dict() for c in self.courses],
            "decisions": [d.to_dict() for d in self.decisions],
        }


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def credits_text(value: Decimal) -> str:
    """``1 credit``, ``2 credits``, ``1.5 credits``."""
    return f"{_fmt(value)} credit" if value == 1 else f"{_fmt(value)} credits"


def _score(credential: Credential, policy: TransferPolicy) -> tuple[Decimal | None, str | None]:
    """(percentage or None, letter grade or None) from the learner's result."""
    achievement = credential.achievement
    descriptions = {
        d.id: d for d in (achievement.result_descriptions if achievement else ()) if d.id
    }
    for result in credential.subject.results:
        if result.value is None:
            continue
        description = descriptions.get(result.result_description or "")
        result_type = description.result_type if description is not None else None
        if result_type == "LetterGrade" or policy.grade_rank(result.value) is not None:
            return None, result.value
        try:
            score = Decimal(result.value)
        except InvalidOperation:
            continue
        if score.is_finite():
            return score, policy.grade_for(score)
    return None, None


# --- the evaluation: candidates, then one small rule per reason -------------------------------


@dataclass(frozen=True)
class _Candidate:
    """One credential to decide on; ``preset`` is a rejection decided by its container."""

    report: _Report
    model: Credential | None
    preset: str | None = None
    container: str | None = None

    @property
    def achievement(self) -> Achievement | None:
        return self.model.achievement if self.model is not None else None

    @property
    def name(self) -> str:
        achievement = self.achievement
        return (achievement.label if achievement else None) or "this credential"


@dataclass
class _State:
    """What earlier decisions settled: credentials and courses already counted, the total."""

    transferred: Decimal = Decimal(0)
    seen_credentials: set[str] = field(default_factory=set)
    seen_achievements: set[str] = field(default_factory=set)
    credited_courses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rejection:
    code: str
    reason: str
    course: str | None = None


def _expand(report: _Report, container: str | None = None) -> list[_Candidate]:
    """Every credential to decide on, in input order: a presentation's credentials, a
    programme statement (or learner record) followed by its credentials."""
    if report.kind == "presentation":
        out: list[_Candidate] = []
        for part in report.parts:
            for item in _expand(part):
                preset = item.preset
                if report.presentation_accepted is not True:
                    preset = "PRESENTATION_NOT_VERIFIED"
                out.append(_Candidate(item.report, item.model, preset, item.container))
        return out
    model = report.model
    if model is not None and model.is_clr:
        label = (model.achievement.label if model.achievement else None) or "the statement"
        head = _Candidate(report, model, "EVALUATED_BY_COMPONENT", container)
        parts_preset = None if report.verified else "CONTAINER_NOT_VERIFIED"
        return [head] + [_Candidate(part, part.model, parts_preset, label) for part in report.parts]
    return [_Candidate(report, model, None, container)]


def _rule_preset(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    if c.preset == "EVALUATED_BY_COMPONENT":
        if not c.report.verified:
            return _not_verified(c)
        return _Rejection(
            c.preset,
            f"{c.name} is a programme statement or learner record; its "
            f"{len(c.report.parts)} credentials are evaluated one by one.",
        )
    if c.preset == "PRESENTATION_NOT_VERIFIED":
        return _Rejection(
            c.preset,
            f"{c.name} came in a presentation that is not signed by its holder (or not for "
            "this request), and your policy requires one.",
        )
    if c.preset == "CONTAINER_NOT_VERIFIED":
        return _Rejection(
            c.preset,
            f"{c.name} came inside {c.container}, which does not verify; present it on its own.",
        )
    return None


def _not_verified(c: _Candidate) -> _Rejection:
    if c.report.verdict == "unknown_issuer":
        issuer = c.model.issuer.id if c.model is not None else "its issuer"
        return _Rejection(
            "ISSUER_NOT_TRUSTED",
            f"{c.name} is signed by {issuer}, which is not a recognised issuer: only "
            "credentials from issuers on the verifier's trust list count.",
        )
    codes = ", ".join(dict.fromkeys(str(e.get("code")) for e in c.report.errors))
    return _Rejection("NOT_VERIFIED", f"{c.name} does not verify: {c.report.headline} ({codes})")


def _rule_verified(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    if not c.report.verified or c.model is None:
        return _not_verified(c)
    return None


def _rule_trusted(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    """Only recognised issuers count, whatever ``acceptedIssuers`` says."""
    trust = c.report.checks.get("issuer_trust")
    if trust is None or getattr(trust, "status", None) not in ("passed", "warning"):
        issuer = c.model.issuer.id if c.model is not None else "its issuer"
        return _Rejection(
            "ISSUER_NOT_TRUSTED", f"{c.name} is signed by {issuer}, which is not recognised."
        )
    return None


def _rule_kind(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    assert c.model is not None  # _rule_verified ran first
    if c.model.kind == "COC":
        return _Rejection(
            "COC_NO_CREDIT", f"{c.name} is a Certificate of Completion, which carries no credit."
        )
    if c.model.is_clr or c.model.kind != "COA":
        return _Rejection("NOT_A_MICROCREDENTIAL", f"{c.name} is not a Certificate of Achievement.")
    return None


def _rule_issuer(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    assert c.model is not None
    if policy.accepted_issuers and c.model.issuer.id not in policy.accepted_issuers:
        return _Rejection(
            "ISSUER_NOT_ACCEPTED",
            f"{c.name} is issued by {c.model.issuer.id}, which this programme does not accept.",
        )
    return None


def _rule_duplicate(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    assert c.model is not None
    key = c.model.id or ""
    achievement = c.achievement
    achievement_key = achievement.id if achievement and achievement.id else key
    if (key and key in state.seen_credentials) or achievement_key in state.seen_achievements:
        return _Rejection("DUPLICATE", f"{c.name} was already evaluated.")
    if key:
        state.seen_credentials.add(key)
    state.seen_achievements.add(achievement_key)
    return None


def _rule_level(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    if policy.min_mqf_level is None:
        return None
    level = c.achievement.mqf_level if c.achievement else None
    if level is None:
        return _Rejection("MQF_LEVEL_UNKNOWN", f"{c.name} states no MQF level.")
    if level < policy.min_mqf_level:
        return _Rejection(
            "MQF_LEVEL_TOO_LOW",
            f"{c.name} is at MQF level {level}; the minimum is {policy.min_mqf_level}.",
        )
    return None


def _rule_age(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    assert c.model is not None
    awarded = c.model.valid_from
    if policy.max_age_years is None or awarded is None:
        return None
    if Decimal(str((at - awarded) / _YEAR)) > policy.max_age_years:
        return _Rejection(
            "TOO_OLD",
            f"{c.name} was awarded {awarded.date().isoformat()}, more than "
            f"{_fmt(policy.max_age_years)} years ago.",
        )
    return None


def _rule_grade(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    assert c.model is not None
    if policy.min_grade is None and policy.min_score is None:
        return None
    score, grade = _score(c.model, policy)
    if grade is None and score is None:
        return _Rejection("GRADE_MISSING", f"{c.name} states no grade or score.")
    if policy.min_score is not None and (score is None or score < policy.min_score):
        shown = _fmt(score) if score is not None else grade
        return _Rejection(
            "GRADE_TOO_LOW", f"{c.name} has {shown}; the minimum score is {_fmt(policy.min_score)}."
        )
    if policy.min_grade is not None:
        rank = policy.grade_rank(grade) if grade is not None else None
        needed = policy.grade_rank(policy.min_grade)
        if rank is None or needed is None or rank > needed:
            return _Rejection(
                "GRADE_TOO_LOW", f"{c.name} has grade {grade}; the minimum is {policy.min_grade}."
            )
    return None


def _rule_course(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    assert c.model is not None
    mapping = policy.mapping_for(c.model)
    if mapping is None:
        return _Rejection("NO_COURSE_MAPPING", f"{c.name} maps to no course of this programme.")
    if mapping.course in state.credited_courses:
        return _Rejection(
            "COURSE_ALREADY_CREDITED",
            f"{c.name} maps to {mapping.course}, already credited for "
            f"{state.credited_courses[mapping.course]}.",
            course=mapping.course,
        )
    return None


def _rule_hours(
    c: _Candidate, policy: TransferPolicy, state: _State, at: datetime
) -> _Rejection | None:
    """MQA: a stand-alone micro-credential earns one credit per ``notionalHoursPerCredit``."""
    per_credit = policy.notional_hours_per_credit
    achievement = c.achievement
    if per_credit is None or c.model is None or achievement is None:
        return None
    if achievement.category != "stand-alone":
        return None
    mapping = policy.mapping_for(c.model)
    if mapping is None:
        return None
    if achievement.slt_hours is None:
        return _Rejection(
            "HOURS_UNKNOWN",
            f"{c.name} is a stand-alone micro-credential and states no notional learning hours.",
            course=mapping.course,
        )
    earned = Decimal(achievement.slt_hours) / per_credit
    if earned < mapping.credits:
        return _Rejection(
            "TOO_FEW_HOURS",
            f"{c.name} has {achievement.slt_hours} notional learning hours, "
            f"{credits_text(earned.quantize(Decimal('0.1')))} at {_fmt(per_credit)} hours per "
            f"credit; {mapping.course} needs {credits_text(mapping.credits)}.",
            course=mapping.course,
        )
    return None


#: The rules, in order; the first that rejects decides. Each is small and reads one thing.
_RULES = (
    _rule_preset,
    _rule_verified,
    _rule_trusted,
    _rule_kind,
    _rule_issuer,
    _rule_duplicate,
    _rule_level,
    _rule_age,
    _rule_grade,
    _rule_course,
    _rule_hours,
)


def _credit(
    c: _Candidate, policy: TransferPolicy, state: _State
) -> tuple[_Rejection | None, CourseCredit | None]:
    """The cap rule, and the course credit when there is room."""
    assert c.model is not None
    mapping = policy.mapping_for(c.model)
    assert mapping is not None  # _rule_course ran first
    credits = mapping.credits
    room = policy.cap - state.transferred
    if credits > room:
        if not (policy.allow_partial_credit and room > 0):
            return (
                _Rejection(
                    "CAP_REACHED",
                    f"{c.name} would exceed the cap of {credits_text(policy.cap)} "
                    f"({_fmt(policy.max_transfer_share * 100)} % of "
                    f"{_fmt(policy.total_credits)}); {_fmt(state.transferred)} already "
                    "transferred.",
                    course=mapping.course,
                ),
                None,
            )
        credits = room
    state.transferred += credits
    state.credited_courses[mapping.course] = c.name
    achievement = c.achievement
    return None, CourseCredit(
        mapping.course, credits, achievement.id if achievement else None, c.model.id
    )


def _learners(candidates: Sequence[_Candidate]) -> list[TransferLearner]:
    """The distinct learners of the verified credentials, in order of first appearance."""
    found: list[tuple[Subject, TransferLearner]] = []
    for c in candidates:
        if c.model is None or not c.report.verified or c.preset is not None:
            continue
        subject = c.model.subject
        if not any(same_learner(known, subject) for known, _ in found):
            found.append((subject, TransferLearner.from_subject(subject)))
    return [learner for _, learner in found]


def evaluate_transfer(
    reports: Sequence[_Report], policy: TransferPolicy, *, at: datetime
) -> TransferResult:
    """Evaluate ``reports`` against ``policy`` at time ``at`` (see the module docstring).

    Every credential must be about one learner (the same ``credentialSubject.id``, or the
    same salted identity hash): when the verified credentials are about more than one, the
    whole request is refused (``LEARNER_MISMATCH`` for each credential; nothing transfers).
    """
    candidates = [c for report in reports for c in _expand(report)]
    learners = _learners(candidates)
    state = _State()
    decisions: list[Decision] = []
    courses: list[CourseCredit] = []
    mixed = len(learners) > 1
    for c in candidates:
        _score_value, grade = _score(c.model, policy) if c.model is not None else (None, None)
        rejection: _Rejection | None = None
        if mixed:
            names = " and ".join(learner.label for learner in learners)
            rejection = _Rejection(
                "LEARNER_MISMATCH",
                f"These credentials are about more than one learner ({names}); credit "
                "transfer needs one learner's credentials only.",
            )
        for rule in _RULES:
            if rejection is not None:
                break
            rejection = rule(c, policy, state, at)
        credit: CourseCredit | None = None
        if rejection is None:
            rejection, credit = _credit(c, policy, state)
        if credit is not None:
            courses.append(credit)
        decisions.append(_decision(c, rejection, credit, grade))
    return TransferResult(
        programme=policy.programme,
        total_credits=policy.total_credits,
        cap=policy.cap,
        transferred=state.transferred,
        courses=tuple(courses),
        decisions=tuple(decisions),
        learner=learners[0] if len(learners) == 1 else None,
        learners=tuple(learners),
        refused="LEARNER_MISMATCH" if mixed else None,
    )


def _decision(
    c: _Candidate, rejection: _Rejection | None, credit: CourseCredit | None, grade: str | None
) -> Decision:
    model = c.model
    achievement = c.achievement
    if rejection is None and credit is not None:
        code, reason = (
            "ACCEPTED",
            f"{c.name} is credited as {credit.course} ({credits_text(credit.credits)}).",
        )
    else:
        assert rejection is not None
        code, reason = rejection.code, rejection.reason
    return Decision(
        credential_id=model.id if model else None,
        achievement_id=achievement.id if achievement else None,
        achievement_name=achievement.name if achievement else None,
        issuer_id=model.issuer.id if model else None,
        award_type=("CLR" if model.is_clr and model.award_type != "MMS" else model.kind)
        if model
        else None,
        accepted=rejection is None,
        code=code,
        reason=reason,
        course=credit.course if credit else (rejection.course if rejection else None),
        credits=credit.credits if credit else None,
        grade=grade,
        learner_name=model.subject.learner_name if model else None,
    )
