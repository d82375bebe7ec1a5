"""Credit-transfer evaluation for a receiving university (pure: no I/O, time injected).

Input: verification reports (:func:`verifier.report.verify_credential` of MMSs, COAs, COCs or
presentations holding them) and a :class:`TransferPolicy` for one receiving programme. Output:
a :class:`TransferResult`: per credential accepted or rejected with a reason code and sentence,
the credits per target course, and the total, capped at ``maxTransferShare * totalCredits``.

Policy file (JSON), with the defaults used when a member is absent::

    {
      "programme": {"id": "...", "name": "BSc Data Science"},   # shown in the result
      "totalCredits": 120,                # credits of the receiving programme
      "maxTransferShare": 0.30,           # at most this share of totalCredits transfers
      "minMqfLevel": null,                # e.g. 6: COAs below this MQF level are refused
      "minGrade": null,                   # e.g. "B": letter grade on gradeScale ...
      "minScore": null,                   # ... or a minimum percentage, e.g. 65
      "maxAgeYears": 5,                   # COAs awarded longer ago are refused (null: no limit)
      "acceptedIssuers": [],              # issuer ids; empty: any issuer whose COA verifies
      "courseMapping": [                  # achievement id or humanCode -> course and credits
        {"achievement": "DAF101", "course": "XYZ1234", "credits": 3}
      ],
      "allowUnsignedPresentations": false,  # accept a presentation without the holder's proof
      "allowPartialCredit": false,        # true: the course reaching the cap gets what is left
      "gradeScale": [{"grade": "A", "minScore": 80}, ...]   # best first; default below
    }

Rules, in order, for each COA (credentials are taken in input order; an MMS and a presentation
are expanded into their credentials): it must verify (``NOT_VERIFIED``); a COC never carries
credit (``COC_NO_CREDIT``) and other credentials are not micro-credentials
(``NOT_A_MICROCREDENTIAL``); issuer accepted (``ISSUER_NOT_ACCEPTED``); not counted before
(``DUPLICATE``); MQF level (``MQF_LEVEL_TOO_LOW`` / ``MQF_LEVEL_UNKNOWN``); age
(``TOO_OLD``); grade (``GRADE_TOO_LOW`` / ``GRADE_MISSING``); a course mapping
(``NO_COURSE_MAPPING``) for a course not yet credited (``COURSE_ALREADY_CREDITED``); and room
under the cap (``CAP_REACHED``). Whole courses only, unless ``allowPartialCredit``. An MMS
itself is listed as ``EVALUATED_BY_COMPONENT`` (its COAs carry the credit).

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

from .models import Credential

__all__ = [
    "DEFAULT_GRADE_SCALE",
    "CourseCredit",
    "CourseMapping",
    "Decision",
    "TransferPolicy",
    "TransferResult",
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

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "credential_id": self.credential_id,
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
class TransferResult:
    """The evaluation: decisions in input order, courses credited and the capped total."""

    programme: Mapping[str, Any]
    total_credits: Decimal
    cap: Decimal
    transferred: Decimal
    courses: tuple[CourseCredit, ...]
    decisions: tuple[Decision, ...]

    @property
    def accepted(self) -> tuple[Decision, ...]:
        """Accepted decisions."""
        return tuple(d for d in self.decisions if d.accepted)

    @property
    def rejected(self) -> tuple[Decision, ...]:
        """Rejected decisions."""
        return tuple(d for d in self.decisions if not d.accepted)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{"programme", "total_credits", "cap", "transferred", "courses",
        "decisions"}``."""
        return {
            "programme": dict(self.programme),
            "total_credits": _num(self.total_credits),
            "cap": _num(self.cap),
            "transferred": _num(self.transferred),
            "courses": [c.to_dict() for c in self.courses],
            "decisions": [d.to_dict() for d in self.decisions],
        }


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


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


def _expand(report: _Report, policy: TransferPolicy) -> list[tuple[_Report, str | None]]:
    """(report, rejection code or None) per credential to evaluate, in order."""
    if report.kind == "presentation":
        presentation_ok = report.presentation_accepted is True
        out: list[tuple[_Report, str | None]] = []
        for part in report.parts:
            for item, code in _expand(part, policy):
                out.append((item, code if presentation_ok else "PRESENTATION_NOT_VERIFIED"))
        return out
    model = report.model
    if model is not None and model.is_clr:
        out = [(report, "EVALUATED_BY_COMPONENT")]
        out.extend((part, None) for part in report.parts)
        return out
    return [(report, None)]


def evaluate_transfer(
    reports: Sequence[_Report], policy: TransferPolicy, *, at: datetime
) -> TransferResult:
    """Evaluate ``reports`` against ``policy`` at time ``at`` (see the module docstring)."""
    decisions: list[Decision] = []
    courses: list[CourseCredit] = []
    credited_courses: dict[str, str] = {}
    seen_credentials: set[str] = set()
    seen_achievements: set[str] = set()
    transferred = Decimal(0)
    cap = policy.cap

    for top in reports:
        for report, preset in _expand(top, policy):
            model = report.model
            achievement = model.achievement if model is not None else None

            def decide(
                accepted: bool,
                code: str,
                reason: str,
                *,
                course: str | None = None,
                credits: Decimal | None = None,
                grade: str | None = None,
                model: Credential | None = model,
                achievement: Any = achievement,
            ) -> None:
                decisions.append(
                    Decision(
                        credential_id=model.id if model else None,
                        achievement_id=achievement.id if achievement else None,
                        achievement_name=achievement.name if achievement else None,
                        issuer_id=model.issuer.id if model else None,
                        award_type=model.kind if model else None,
                        accepted=accepted,
                        code=code,
                        reason=reason,
                        course=course,
                        credits=credits,
                        grade=grade,
                    )
                )

            name = (achievement.label if achievement else None) or "this credential"
            if preset == "EVALUATED_BY_COMPONENT":
                decide(
                    False,
                    preset,
                    f"{name} is a programme statement; its {len(report.parts)} COAs are "
                    "evaluated one by one.",
                )
                continue
            if preset == "PRESENTATION_NOT_VERIFIED":
                decide(
                    False,
                    preset,
                    f"{name} came in a presentation that is not signed by its holder (or not "
                    "for this request), and your policy requires one.",
                )
                continue
            if not report.verified or model is None:
                codes = ", ".join(dict.fromkeys(str(e.get("code")) for e in report.errors))
                decide(
                    False, "NOT_VERIFIED", f"{name} does not verify: {report.headline} ({codes})"
                )
                continue
            if model.kind == "COC":
                decide(
                    False,
                    "COC_NO_CREDIT",
                    f"{name} is a Certificate of Completion, which carries no credit.",
                )
                continue
            if model.kind != "COA":
                decide(
                    False, "NOT_A_MICROCREDENTIAL", f"{name} is not a Certificate of Achievement."
                )
                continue
            if policy.accepted_issuers and model.issuer.id not in policy.accepted_issuers:
                decide(
                    False,
                    "ISSUER_NOT_ACCEPTED",
                    f"{name} is issued by {model.issuer.name or model.issuer.id}, which this "
                    "programme does not accept.",
                )
                continue
            key = model.id or ""
            achievement_key = achievement.id if achievement and achievement.id else key
            if (key and key in seen_credentials) or achievement_key in seen_achievements:
                decide(False, "DUPLICATE", f"{name} was already evaluated.")
                continue
            if key:
                seen_credentials.add(key)
            seen_achievements.add(achievement_key)
            level = achievement.mqf_level if achievement else None
            if policy.min_mqf_level is not None:
                if level is None:
                    decide(False, "MQF_LEVEL_UNKNOWN", f"{name} states no MQF level.")
                    continue
                if level < policy.min_mqf_level:
                    decide(
                        False,
                        "MQF_LEVEL_TOO_LOW",
                        f"{name} is at MQF level {level}; the minimum is {policy.min_mqf_level}.",
                    )
                    continue
            if policy.max_age_years is not None and model.valid_from is not None:
                age = (at - model.valid_from) / _YEAR
                if Decimal(str(age)) > policy.max_age_years:
                    decide(
                        False,
                        "TOO_OLD",
                        f"{name} was awarded {model.valid_from.date().isoformat()}, more than "
                        f"{_fmt(policy.max_age_years)} years ago.",
                    )
                    continue
            score, grade = _score(model, policy)
            if policy.min_grade is not None or policy.min_score is not None:
                if grade is None and score is None:
                    decide(False, "GRADE_MISSING", f"{name} states no grade or score.")
                    continue
                if policy.min_score is not None and (score is None or score < policy.min_score):
                    shown = _fmt(score) if score is not None else grade
                    decide(
                        False,
                        "GRADE_TOO_LOW",
                        f"{name} has {shown}; the minimum score is {_fmt(policy.min_score)}.",
                        grade=grade,
                    )
                    continue
                if policy.min_grade is not None:
                    rank = policy.grade_rank(grade) if grade is not None else None
                    needed = policy.grade_rank(policy.min_grade)
                    if rank is None or needed is None or rank > needed:
                        decide(
                            False,
                            "GRADE_TOO_LOW",
                            f"{name} has grade {grade}; the minimum is {policy.min_grade}.",
                            grade=grade,
                        )
                        continue
            mapping = policy.mapping_for(model)
            if mapping is None:
                decide(
                    False,
                    "NO_COURSE_MAPPING",
                    f"{name} maps to no course of this programme.",
                    grade=grade,
                )
                continue
            if mapping.course in credited_courses:
                decide(
                    False,
                    "COURSE_ALREADY_CREDITED",
                    f"{name} maps to {mapping.course}, already credited for "
                    f"{credited_courses[mapping.course]}.",
                    course=mapping.course,
                    grade=grade,
                )
                continue
            credits = mapping.credits
            room = cap - transferred
            if credits > room:
                if policy.allow_partial_credit and room > 0:
                    credits = room
                else:
                    decide(
                        False,
                        "CAP_REACHED",
                        f"{name} would exceed the cap of {_fmt(cap)} credits "
                        f"({_fmt(policy.max_transfer_share * 100)} % of "
                        f"{_fmt(policy.total_credits)}); {_fmt(transferred)} already transferred.",
                        course=mapping.course,
                        grade=grade,
                    )
                    continue
            transferred += credits
            credited_courses[mapping.course] = name
            courses.append(
                CourseCredit(
                    mapping.course, credits, achievement.id if achievement else None, model.id
                )
            )
            decide(
                True,
                "ACCEPTED",
                f"{name} is credited as {mapping.course} ({_fmt(credits)} credits).",
                course=mapping.course,
                credits=credits,
                grade=grade,
            )
    return TransferResult(
        programme=policy.programme,
        total_credits=policy.total_credits,
        cap=cap,
        transferred=transferred,
        courses=tuple(courses),
        decisions=tuple(decisions),
    )
