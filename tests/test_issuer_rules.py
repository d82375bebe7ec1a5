"""Award rules (pure): COC, COA and MMS eligibility, per-unit MMS, idempotent re-evaluation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from issuer.domain.awards import (
    AwardType,
    LearnerProgress,
    Result,
    due_awards,
    is_coa_due,
    is_coc_due,
    is_mms_due,
)
from issuer.domain.catalogue import AssessmentSpec, MaterialSpec, MicroCredentialSpec, ProgrammeSpec


def _mc(code: str, *, materials: int = 2, assessments: int = 2) -> MicroCredentialSpec:
    return MicroCredentialSpec(
        code=code,
        title=f"Course {code}",
        description="d",
        credits=2,
        slt_hours=80,
        mqf_level=6,
        delivery_mode="online",
        category="programme-based",
        materials=tuple(MaterialSpec(f"M{i}", f"Material {i}") for i in range(materials)),
        assessments=tuple(
            AssessmentSpec(f"A{i}", f"Assessment {i}", Decimal(50)) for i in range(assessments)
        ),
    )


A, B, C = _mc("A"), _mc("B"), _mc("C")
PROG = ProgrammeSpec("P", "Programme", "d", 6, ("A", "B", "C"))


def _progress(
    done: dict[str, set[str]], scores: dict[str, dict[str, int]] | None = None
) -> LearnerProgress:
    return LearnerProgress(
        completed={k: frozenset(v) for k, v in done.items()},
        results={
            mc: {a: Result(Decimal(s)) for a, s in res.items()}
            for mc, res in (scores or {}).items()
        },
    )


ALL_DONE = {"M0", "M1"}
ALL_PASSED = {"A0": 50, "A1": 99}


def test_coc_needs_every_material() -> None:
    assert not is_coc_due(A, _progress({"A": {"M0"}}))
    assert is_coc_due(A, _progress({"A": ALL_DONE}))


def test_coc_never_due_without_materials() -> None:
    assert not is_coc_due(_mc("X", materials=0), _progress({}))


def test_coa_needs_every_material_and_every_assessment_passed() -> None:
    assert is_coa_due(A, _progress({"A": ALL_DONE}, {"A": ALL_PASSED}))


@pytest.mark.parametrize(
    ("done", "scores"),
    [
        ({"M0"}, ALL_PASSED),  # a material missing
        (ALL_DONE, {"A0": 80}),  # an assessment missing
        (ALL_DONE, {"A0": 80, "A1": 49}),  # an assessment failed (below the pass mark)
    ],
    ids=["material_missing", "assessment_missing", "assessment_failed"],
)
def test_coa_not_due(done: set[str], scores: dict[str, int]) -> None:
    assert not is_coa_due(A, _progress({"A": done}, {"A": scores}))


def test_pass_mark_is_inclusive() -> None:
    assert is_coa_due(A, _progress({"A": ALL_DONE}, {"A": {"A0": 50, "A1": 50}}))


def test_mms_needs_every_component_coa() -> None:
    assert not is_mms_due(PROG, ["A", "B"])
    assert is_mms_due(PROG, ["A", "B", "C"])


def test_due_awards_issues_mms_with_the_completing_coa() -> None:
    progress = _progress({"C": ALL_DONE}, {"C": ALL_PASSED})
    held: set[tuple[AwardType, str]] = {("COC", "A"), ("COA", "A"), ("COC", "B"), ("COA", "B")}
    due = due_awards([A, B, C], [PROG], progress, held)
    assert [(d.award_type, d.achievement_code) for d in due] == [
        ("COC", "C"),
        ("COA", "C"),
        ("MMS", "P"),
    ]


def test_revoked_coa_does_not_count_toward_mms() -> None:
    held: set[tuple[AwardType, str]] = {("COA", "A"), ("COA", "B"), ("COA", "C")}
    due = due_awards([A, B, C], [PROG], _progress({}), held, unusable_coas={"B"})
    assert due == []


def test_held_awards_are_never_due_again() -> None:
    progress = _progress({"A": ALL_DONE}, {"A": ALL_PASSED})
    first = due_awards([A], [], progress, set())
    held = {(d.award_type, d.achievement_code) for d in first}
    assert due_awards([A], [], progress, held) == []


def test_mms_per_unit_option() -> None:
    per_unit = ProgrammeSpec("P", "Programme", "d", 6, ("A", "B", "C"), mms_per_unit=True)
    due = due_awards([A, B, C], [per_unit], _progress({}), {("COA", "A")})
    assert [(d.award_type, d.achievement_code, d.micro_credential) for d in due] == [
        ("MMS", "P/A", "A")
    ]
