"""Award rules: which COC, COA and MMS awards a learner's progress makes due. Pure.

- **COC**: every learning material of a micro-credential completed (needs at least one material).
- **COA**: every material completed **and** every assessment passed (score >= pass mark; needs at
  least one assessment).
- **MMS**: an unrevoked COA held for every component of a programme. With ``mms_per_unit`` the
  programme also awards an MMS per component whose COA is held (achievement code
  ``PROG/UNIT``).

:func:`due_awards` is idempotent by construction: it returns only awards not already held, so
re-evaluating after a replayed event yields nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from contexts.errors import SijilError
from issuer.domain.catalogue import AssessmentSpec, MicroCredentialSpec, ProgrammeSpec

__all__ = [
    "AWARD_TYPES",
    "AwardType",
    "DueAward",
    "LearnerProgress",
    "NotEligibleError",
    "Result",
    "due_awards",
    "is_coa_due",
    "is_coc_due",
    "is_mms_due",
    "is_passed",
    "per_unit_code",
]

AwardType = Literal["COC", "COA", "MMS"]
AWARD_TYPES: tuple[AwardType, ...] = ("COC", "COA", "MMS")


class NotEligibleError(SijilError):
    """The learner's progress does not (yet) make this award due."""

    code = "NOT_ELIGIBLE"
    title = "Not eligible for this award"
    http_status = 409


@dataclass(frozen=True)
class Result:
    """A learner's (best) result in one assessment."""

    score: Decimal
    grade: str | None = None


@dataclass(frozen=True)
class LearnerProgress:
    """What a learner has done, by micro-credential code."""

    completed: Mapping[str, frozenset[str]]  # mc code -> completed material codes
    results: Mapping[str, Mapping[str, Result]]  # mc code -> assessment code -> result


@dataclass(frozen=True)
class DueAward:
    """An award that should exist for a learner (but is not held yet)."""

    award_type: AwardType
    achievement_code: str
    micro_credential: str | None = None
    programme: str | None = None


def per_unit_code(programme: str, unit: str) -> str:
    """Achievement code of a per-unit MMS."""
    return f"{programme}/{unit}"


def is_passed(assessment: AssessmentSpec, result: Result | None) -> bool:
    """Whether ``result`` meets the assessment's pass mark."""
    return result is not None and result.score >= assessment.pass_mark


def is_coc_due(mc: MicroCredentialSpec, progress: LearnerProgress) -> bool:
    """Every learning material of ``mc`` completed (and there is at least one)."""
    done = progress.completed.get(mc.code, frozenset())
    return bool(mc.materials) and all(m.code in done for m in mc.materials)


def is_coa_due(mc: MicroCredentialSpec, progress: LearnerProgress) -> bool:
    """Every material completed and every assessment passed (and there is one)."""
    done = progress.completed.get(mc.code, frozenset())
    results = progress.results.get(mc.code, {})
    return (
        bool(mc.assessments)
        and all(m.code in done for m in mc.materials)
        and all(is_passed(a, results.get(a.code)) for a in mc.assessments)
    )


def is_mms_due(programme: ProgrammeSpec, held_coas: Iterable[str]) -> bool:
    """An unrevoked COA held for every component of ``programme``."""
    held = set(held_coas)
    return all(code in held for code in programme.components)


def due_awards(
    micro_credentials: Sequence[MicroCredentialSpec],
    programmes: Sequence[ProgrammeSpec],
    progress: LearnerProgress,
    held: Iterable[tuple[AwardType, str]],
    *,
    unusable_coas: Iterable[str] = (),
) -> list[DueAward]:
    """Awards due for one learner and not yet ``held``, COCs and COAs before MMSs.

    ``held`` lists (award type, achievement code) of **all** the learner's awards, revoked ones
    included: a revoked award is never re-issued automatically (re-issue is an explicit admin
    act). ``unusable_coas`` are micro-credential codes of held COAs that are revoked or suspended:
    they do not count toward an MMS. An MMS becomes due in the same evaluation as the COA that
    completes it.
    """
    held_set = set(held)
    out: list[DueAward] = []
    coas = {code for kind, code in held_set if kind == "COA"} - set(unusable_coas)
    for mc in micro_credentials:
        if ("COC", mc.code) not in held_set and is_coc_due(mc, progress):
            out.append(DueAward("COC", mc.code, micro_credential=mc.code))
        if ("COA", mc.code) not in held_set and is_coa_due(mc, progress):
            out.append(DueAward("COA", mc.code, micro_credential=mc.code))
            coas.add(mc.code)
    for programme in programmes:
        if ("MMS", programme.code) not in held_set and is_mms_due(programme, coas):
            out.append(DueAward("MMS", programme.code, programme=programme.code))
        if programme.mms_per_unit:
            for unit in programme.components:
                code = per_unit_code(programme.code, unit)
                if unit in coas and ("MMS", code) not in held_set:
                    out.append(
                        DueAward("MMS", code, micro_credential=unit, programme=programme.code)
                    )
    return out
