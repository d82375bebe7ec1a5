"""Recording progress events and issuing what became due.

:func:`record_progress` stores a batch of events in one transaction (idempotently: a completion
is recorded once, an assessment keeps the learner's best score), then re-evaluates **every**
learner named in the batch, changed or not. Re-evaluating unchanged learners is what makes a
re-run after a crash finish the awards the crash interrupted; replaying the same events issues
nothing new because :func:`issuer.services.issuance.evaluate_learners` skips held awards.

A call is one outbox batch (:func:`issuer.outbox.events.batch_scope`), or part of the batch its
shell opened (a ``POST /progress`` under an ``Idempotency-Key``, an import): each award's
transaction records the award for the batch and queues one ``learner.notify`` per learner (when
``SIJIL_NOTIFY_LEARNERS`` is on), so learners are mailed by the outbox worker, never here, and a
retry of an interrupted batch reports every award the batch issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contexts.errors import SijilError
from issuer.db.faults import DatabaseFaultError
from issuer.db.models import (
    Assessment,
    AssessmentResult,
    Learner,
    Material,
    MaterialCompletion,
    MicroCredential,
)
from issuer.domain.catalogue import LearnerSpec
from issuer.domain.progress import ProgressEvent, RowError
from issuer.outbox.events import batch_award_ids, batch_scope
from issuer.services import audit
from issuer.services.awards import AwardView, get_award
from issuer.services.catalogue import upsert_learner_in
from issuer.services.errors import UnknownReferenceError
from issuer.services.issuance import evaluate_learners
from issuer.services.runtime import Runtime

__all__ = ["ProgressOutcome", "record_progress"]


@dataclass
class ProgressOutcome:
    """What a batch did: events newly recorded, events that changed nothing, rejected events
    (by their line / index), and the awards issued as a result (by the whole batch: a retry of
    an interrupted request reports the awards its first attempt committed too)."""

    recorded: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    issued: list[AwardView] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "recorded": self.recorded,
            "unchanged": self.unchanged,
            "rejected": [r.to_dict() for r in self.rejected],
            "issued": [a.to_dict() for a in self.issued],
        }


class _Refs:
    """Per-batch caches of learner, micro-credential and item ids."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.learners: dict[str, Learner] = {}
        self.mcs: dict[str, int | None] = {}
        self.materials: dict[tuple[int, str], int | None] = {}
        self.assessments: dict[tuple[int, str], int | None] = {}

    def mc(self, code: str) -> int | None:
        if code not in self.mcs:
            self.mcs[code] = self.session.scalar(
                select(MicroCredential.id).where(MicroCredential.code == code)
            )
        return self.mcs[code]

    def material(self, mc_id: int, code: str) -> int | None:
        if (mc_id, code) not in self.materials:
            self.materials[mc_id, code] = self.session.scalar(
                select(Material.id).where(
                    Material.micro_credential_id == mc_id, Material.code == code
                )
            )
        return self.materials[mc_id, code]

    def assessment(self, mc_id: int, code: str) -> int | None:
        if (mc_id, code) not in self.assessments:
            self.assessments[mc_id, code] = self.session.scalar(
                select(Assessment.id).where(
                    Assessment.micro_credential_id == mc_id, Assessment.code == code
                )
            )
        return self.assessments[mc_id, code]


def _learner(rt: Runtime, refs: _Refs, event: ProgressEvent, actor: str) -> Learner:
    known = refs.learners.get(event.learner)
    if known is not None:
        return known
    row = refs.session.scalar(select(Learner).where(Learner.external_id == event.learner))
    if row is None:
        if not event.learner_email or not event.learner_name:
            raise UnknownReferenceError(
                f"unknown learner {event.learner!r} (give learner_email and learner_name to "
                "create one)",
                pointer="/learner_id",
            )
        row = upsert_learner_in(
            refs.session,
            LearnerSpec(event.learner, event.learner_email, event.learner_name, event.learner_did),
            rt=rt,
            actor=actor,
        )
    refs.learners[event.learner] = row
    return row


_UPSERTS: dict[tuple[str, str], Any] = {}


def _upsert(session: Session, kind: str) -> Any:
    """The row's upsert, built once per (dialect, kind); values are passed as parameters.

    ``material``: a completion, kept if already there. ``assessment``: a result, replaced only
    by a higher score. Both return a row when they wrote one (``RETURNING`` works the same on
    SQLite and PostgreSQL, unlike ``rowcount`` after ``ON CONFLICT``).
    """
    name = session.get_bind().dialect.name
    stmt = _UPSERTS.get((name, kind))
    if stmt is None:
        insert = postgresql.insert if name == "postgresql" else sqlite.insert
        if kind == "material":
            completions = cast("Table", MaterialCompletion.__table__)
            stmt = insert(completions).on_conflict_do_nothing(
                index_elements=["learner_id", "material_id"]
            )
        else:
            results = cast("Table", AssessmentResult.__table__)
            upsert = insert(results)
            stmt = upsert.on_conflict_do_update(
                index_elements=["learner_id", "assessment_id"],
                set_={
                    "score": upsert.excluded.score,
                    "grade": upsert.excluded.grade,
                    "recorded_at": upsert.excluded.recorded_at,
                },
                where=results.c.score < upsert.excluded.score,
            )
        stmt = _UPSERTS[name, kind] = stmt.returning(text("1"))
    return stmt


def _apply(rt: Runtime, refs: _Refs, event: ProgressEvent, actor: str) -> tuple[int, bool]:
    """Store one event; returns (learner id, whether anything changed)."""
    learner = _learner(rt, refs, event, actor)
    mc_id = refs.mc(event.micro_credential)
    if mc_id is None:
        raise UnknownReferenceError(
            f"unknown micro-credential {event.micro_credential!r}", pointer="/micro_credential"
        )
    at = (event.occurred_at or rt.now()).astimezone(UTC)
    session = refs.session
    if event.kind == "material_completed":
        material_id = refs.material(mc_id, event.item)
        if material_id is None:
            raise UnknownReferenceError(
                f"{event.micro_credential} has no learning material {event.item!r}",
                pointer="/item",
            )
        row = session.execute(
            _upsert(session, "material"),
            {"learner_id": learner.id, "material_id": material_id, "completed_at": at},
        ).first()
        return learner.id, row is not None
    assessment_id = refs.assessment(mc_id, event.item)
    if assessment_id is None:
        raise UnknownReferenceError(
            f"{event.micro_credential} has no assessment {event.item!r}", pointer="/item"
        )
    row = session.execute(
        _upsert(session, "assessment"),
        {
            "learner_id": learner.id,
            "assessment_id": assessment_id,
            "score": event.score,
            "grade": event.grade,
            "recorded_at": at,
        },
    ).first()
    return learner.id, row is not None


def record_progress(
    rt: Runtime,
    events: Sequence[ProgressEvent] | Sequence[tuple[int, ProgressEvent]],
    *,
    actor: str,
    partial: bool = False,
    evaluate: bool = True,
    whole_batch: bool = True,
) -> ProgressOutcome:
    """Record a batch of progress events, then issue whatever became due.

    ``events`` are plain events (numbered 0..n-1 in errors) or ``(line, event)`` pairs (CSV).
    With ``partial=False`` (the API) the first bad event raises its error (``UNKNOWN_REFERENCE``,
    ``MALFORMED_VALUE_ERROR``; pointer prefixed with ``/<index>``) and nothing is stored; with
    ``partial=True`` (CSV import) bad events are reported in ``rejected`` and good ones kept.
    ``issued`` lists every award of the open outbox batch (``whole_batch``, the default: awards
    an interrupted earlier attempt of the same batch committed come first) or only this call's
    (``whole_batch=False``: a chunked import adds them up itself).
    """
    with batch_scope(notify=rt.settings.notify_learners) as batch:
        outcome = _record(rt, events, actor=actor, partial=partial, evaluate=evaluate)
        if whole_batch and evaluate:
            new = {view.id for view in outcome.issued}
            with rt.reading() as session:
                earlier = [a for a in batch_award_ids(session, batch.id) if a not in new]
            outcome.issued = [get_award(rt, award_id) for award_id in earlier] + outcome.issued
    return outcome


def _record(
    rt: Runtime,
    events: Sequence[ProgressEvent] | Sequence[tuple[int, ProgressEvent]],
    *,
    actor: str,
    partial: bool,
    evaluate: bool,
) -> ProgressOutcome:
    numbered: list[tuple[int, ProgressEvent]] = [
        item if isinstance(item, tuple) else (i, item) for i, item in enumerate(events)
    ]
    outcome = ProgressOutcome()
    touched: dict[int, None] = {}
    with rt.transaction() as session:
        refs = _Refs(session)
        for number, event in numbered:
            try:
                if event.learner in refs.learners:
                    # Nothing is written before the row's own upsert, so a bad reference
                    # leaves nothing to undo: no savepoint (one per row was most of an
                    # import's cost). A learner met for the first time may be created first.
                    learner_id, changed = _apply(rt, refs, event, actor)
                else:
                    with session.begin_nested():
                        learner_id, changed = _apply(rt, refs, event, actor)
            except SijilError as exc:
                if not partial or isinstance(exc, DatabaseFaultError):  # a fault is no bad row
                    exc.pointer = f"/{number}{exc.pointer or ''}"
                    raise
                refs.learners.pop(event.learner, None)
                outcome.rejected.append(RowError(number, exc.code, exc.detail))
                continue
            touched[learner_id] = None
            if changed:
                outcome.recorded += 1
            else:
                outcome.unchanged += 1
        if outcome.recorded:
            audit.record(
                session,
                at=rt.now(),
                actor=actor,
                action="progress.record",
                target_type="batch",
                target_id=str(len(numbered)),
                detail={"recorded": outcome.recorded, "unchanged": outcome.unchanged},
            )
    if evaluate:
        outcome.issued = evaluate_learners(rt, list(touched), actor=actor)
    return outcome
