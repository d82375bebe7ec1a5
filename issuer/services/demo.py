"""Demo data: one programme of three micro-credentials, one stand-alone, four learners and
their progress, issuing COCs, COAs and an MMS. Idempotent: a second run changes nothing (no new
rows, no new audit entries), because every step is an upsert or an idempotent event replay.

Seeding sends no mail (core, no I/O): the shells (``sijil-issuer demo``, the dev server) mail the
learners of :attr:`DemoSummary.new_awards` after it returns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from issuer.domain.catalogue import (
    AssessmentSpec,
    LearnerSpec,
    MaterialSpec,
    MicroCredentialSpec,
    ProgrammeSpec,
)
from issuer.domain.progress import ProgressEvent
from issuer.services.awards import AwardView, list_awards
from issuer.services.catalogue import upsert_learner, upsert_micro_credential, upsert_programme
from issuer.services.demobrand import brand_demo_issuer
from issuer.services.issuers import IssuerView, ensure_default_issuer
from issuer.services.progress import record_progress
from issuer.services.runtime import Runtime

__all__ = ["DEMO_LEARNERS", "DEMO_PROGRAMME", "DemoSummary", "demo_events", "seed_demo"]

_AT = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def _mc(
    code: str,
    title: str,
    description: str,
    credits: int,
    outcomes: tuple[str, ...],
    *,
    category: str = "programme-based",
    mode: str = "online",
) -> MicroCredentialSpec:
    return MicroCredentialSpec(
        code=code,
        title=title,
        description=description,
        credits=credits,
        slt_hours=credits * 40,
        mqf_level=6,
        delivery_mode=mode,
        category="stand-alone" if category == "stand-alone" else "programme-based",
        learning_outcomes=outcomes,
        materials=(
            MaterialSpec(f"{code}-M1", "Module 1: concepts"),
            MaterialSpec(f"{code}-M2", "Module 2: practice"),
        ),
        assessments=(
            AssessmentSpec(f"{code}-QZ", "Quiz", Decimal(50)),
            AssessmentSpec(f"{code}-PJ", "Project", Decimal(60)),
        ),
    )


DEMO_MICRO_CREDENTIALS: tuple[MicroCredentialSpec, ...] = (
    _mc(
        "DAF101",
        "Data Analytics Fundamentals",
        "Collecting, cleaning and summarising data for decisions.",
        3,
        ("Clean and prepare a real data set", "Summarise data with descriptive statistics"),
    ),
    _mc(
        "DVZ102",
        "Data Visualisation and Storytelling",
        "Charts and dashboards that explain data to decision makers.",
        2,
        ("Choose an appropriate chart for a question", "Build an interactive dashboard"),
        mode="blended",
    ),
    _mc(
        "PYD103",
        "Python for Data Analysis",
        "Analysing data with Python, pandas and notebooks.",
        3,
        ("Write reproducible analysis notebooks", "Automate a data pipeline"),
    ),
    _mc(
        "ESG201",
        "Sustainability Reporting Essentials",
        "Reporting environmental, social and governance performance (Bursa Malaysia rules).",
        1,
        ("Prepare a sustainability statement",),
        category="stand-alone",
        mode="face-to-face",
    ),
)

DEMO_PROGRAMME = ProgrammeSpec(
    code="PCDA",
    title="Professional Certificate in Data Analytics",
    description="Three stackable micro-credentials in data analytics, creditable toward the "
    "Bachelor of Computer Science (Data Science).",
    mqf_level=6,
    components=("DAF101", "DVZ102", "PYD103"),
    degree_programme_url="https://www.example.edu.my/programmes/bcs-data-science",
    degree_programme_title="Bachelor of Computer Science (Data Science)",
)

DEMO_LEARNERS: tuple[LearnerSpec, ...] = (
    LearnerSpec("S1001", "siti.nurhaliza@student.example.edu.my", "Siti Nurhaliza binti Tarudin"),
    LearnerSpec("S1002", "tan.weiming@student.example.edu.my", "Tan Wei Ming 陈伟明"),
    LearnerSpec(
        "S1003", "kavitha.s@student.example.edu.my", "Kavitha a/p Subramaniam கவிதா சுப்பிரமணியம்"
    ),
    LearnerSpec("S1004", "aiman.abdullah@student.example.edu.my", "Muhammad Aiman bin Abdullah"),
)


def _done(learner: str, mc: str) -> list[ProgressEvent]:
    return [
        ProgressEvent(learner, mc, "material_completed", f"{mc}-M{i}", occurred_at=_AT)
        for i in (1, 2)
    ]


def _result(learner: str, mc: str, item: str, score: int, grade: str) -> ProgressEvent:
    return ProgressEvent(
        learner, mc, "assessment_result", f"{mc}-{item}", Decimal(score), grade, _AT
    )


def demo_events() -> list[ProgressEvent]:
    """The demo's progress: S1001 completes the programme (3 COC, 3 COA, MMS) and the
    stand-alone COC; S1002 gets one COC; S1003 fails a project (COC only) and passes the
    stand-alone (COC + COA); S1004 has only started."""
    events: list[ProgressEvent] = []
    for mc, scores in (("DAF101", (82, 77)), ("DVZ102", (91, 88)), ("PYD103", (74, 69))):
        events += _done("S1001", mc)
        events += [
            _result("S1001", mc, "QZ", scores[0], "A-"),
            _result("S1001", mc, "PJ", scores[1], "B+"),
        ]
    events += _done("S1001", "ESG201")
    events += _done("S1002", "DAF101")
    events += _done("S1003", "DAF101")
    events += [
        _result("S1003", "DAF101", "QZ", 65, "B"),
        _result("S1003", "DAF101", "PJ", 48, "D"),
    ]
    events += _done("S1003", "ESG201")
    events += [
        _result("S1003", "ESG201", "QZ", 95, "A"),
        _result("S1003", "ESG201", "PJ", 90, "A"),
    ]
    events.append(
        ProgressEvent("S1004", "PYD103", "material_completed", "PYD103-M1", None, None, _AT)
    )
    return events


@dataclass
class DemoSummary:
    """What the demo holds after seeding, and what this run issued."""

    issuer: IssuerView
    learners: list[str]
    awards: list[AwardView]
    newly_issued: int
    by_type: Counter[str] = field(default_factory=Counter)
    #: the awards this run issued (empty on a re-run): whose learners the shells mail.
    new_awards: list[AwardView] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "issuer": self.issuer.did,
            "learners": self.learners,
            "awards": [a.to_dict() for a in self.awards],
            "newlyIssued": self.newly_issued,
            "byType": dict(self.by_type),
        }


def seed_demo(rt: Runtime, *, actor: str = "demo") -> DemoSummary:
    """Seed (or re-seed, changing nothing) the demo catalogue, learners and progress."""
    issuer = brand_demo_issuer(rt, ensure_default_issuer(rt, actor=actor), actor=actor)
    for mc in DEMO_MICRO_CREDENTIALS:
        upsert_micro_credential(rt, mc, actor=actor)
    upsert_programme(rt, DEMO_PROGRAMME, actor=actor)
    for learner in DEMO_LEARNERS:
        upsert_learner(rt, learner, actor=actor)
    outcome = record_progress(rt, demo_events(), actor=actor)
    learners = [learner.external_id for learner in DEMO_LEARNERS]
    awards = [a for a in list_awards(rt, limit=None) if a.learner in learners]
    return DemoSummary(
        issuer=issuer,
        learners=learners,
        awards=awards,
        newly_issued=len(outcome.issued),
        by_type=Counter(a.award_type for a in awards),
        new_awards=list(outcome.issued),
    )
