"""What the allocator and the award hook remember within one transaction, and when they forget.

:class:`ListAllocator` reads the issuer's suspension switch and each purpose's open list once
per transaction and records entries with ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint);
:func:`record_award_issued` emits ``learner.notify`` once per (batch, learner) and transaction.
Runs on SQLite and PostgreSQL (``rt`` fixture), real database, nothing timed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.db.models import StatusEntry, StatusList
from issuer.outbox.events import LEARNER_NOTIFY, batch_scope, record_award_issued
from issuer.outbox.models import BatchAward, OutboxEvent
from issuer.services.awards import AwardView
from issuer.services.issuers import ensure_default_issuer
from issuer.services.runtime import Runtime
from issuer.services.status import ListAllocator, set_suspension_enabled


def _draws(*values: int) -> Iterator[int]:
    yield from values


def _entries(rt: Runtime) -> list[tuple[int, int, str | None]]:
    with rt.reading() as session:
        rows = session.execute(
            select(StatusEntry.list_id, StatusEntry.index, StatusEntry.credential_id).order_by(
                StatusEntry.id
            )
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_a_taken_index_is_drawn_again_and_the_transaction_commits(rt: Runtime) -> None:
    view = ensure_default_issuer(rt, actor="t")
    draws = _draws(7, 7, 9)
    allocator = ListAllocator(rt, draw=lambda _size: next(draws))
    with rt.transaction() as session:
        first = allocator.allocate(session, view.id, "revocation", "urn:a")
        second = allocator.allocate(session, view.id, "revocation", "urn:b")
    assert first[1] == 7
    assert second == (first[0], 9)
    assert _entries(rt) == [(first[0], 7, "urn:a"), (first[0], 9, "urn:b")]


def test_an_index_taken_by_an_earlier_transaction_is_drawn_again(rt: Runtime) -> None:
    view = ensure_default_issuer(rt, actor="t")
    draws = _draws(5, 5, 6)
    allocator = ListAllocator(rt, draw=lambda _size: next(draws))
    with rt.transaction() as session:
        first = allocator.allocate(session, view.id, "revocation", "urn:a")
    with rt.transaction() as session:
        second = allocator.allocate(session, view.id, "revocation", "urn:b")
    assert second == (first[0], 6)


def test_a_list_filled_during_a_transaction_is_closed_and_the_next_one_used(rt: Runtime) -> None:
    view = ensure_default_issuer(rt, actor="t")
    draws = _draws(1, 2, 2, 3)
    allocator = ListAllocator(rt, draw=lambda _size: next(draws), full_at=2)
    with rt.transaction() as session:
        got = [allocator.allocate(session, view.id, "revocation", f"urn:{i}") for i in range(3)]
    assert got[0][0] == got[1][0] != got[2][0]
    assert got[2][1] == 3
    with rt.reading() as session:
        lists = session.execute(
            select(StatusList.id, StatusList.is_full).order_by(StatusList.sequence)
        ).all()
    assert [(r[0], r[1]) for r in lists] == [(got[0][0], True), (got[2][0], False)]


def test_a_list_opened_in_a_rolled_back_savepoint_is_not_used_afterwards(rt: Runtime) -> None:
    view = ensure_default_issuer(rt, actor="t")
    allocator = ListAllocator(rt)
    with rt.transaction() as session:
        savepoint = session.begin_nested()
        allocator.allocate(session, view.id, "revocation", "urn:undone")
        savepoint.rollback()
        kept = allocator.allocate(session, view.id, "revocation", "urn:kept")
    entries = _entries(rt)
    assert [e[2] for e in entries] == ["urn:kept"]
    with rt.reading() as session:
        assert session.get(StatusList, kept[0]) is not None


def test_the_suspension_switch_is_read_again_in_the_next_transaction(rt: Runtime) -> None:
    view = ensure_default_issuer(rt, actor="t")
    allocator = ListAllocator(rt)
    with rt.transaction() as session:
        before = allocator(session, view.id, "urn:one")
    set_suspension_enabled(rt, None, True, actor="t")
    with rt.transaction() as session:
        after = allocator(session, view.id, "urn:two")
    assert [e["statusPurpose"] for e in before] == ["revocation"]
    assert [e["statusPurpose"] for e in after] == ["revocation", "suspension"]


def _award(award_id: str, learner: str) -> AwardView:
    return AwardView(
        id=award_id,
        credential_id=f"urn:uuid:{award_id}",
        award_type="COC",
        achievement_code="MC1",
        learner=learner,
        issuer="default",
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="active",
        credential_json="{}",
    )


def _record(session: Session, award: AwardView, at: datetime) -> None:
    record_award_issued(session, award, at=at)
    for pending in [o for o in session.new if isinstance(o, BatchAward)]:
        session.expunge(pending)


def _notify_keys(session: Session) -> list[str]:
    rows = session.scalars(
        select(OutboxEvent.key).where(OutboxEvent.kind == LEARNER_NOTIFY).order_by(OutboxEvent.id)
    )
    return list(rows)


def test_learner_notify_once_per_transaction_and_again_after_a_savepoint_rollback(
    rt: Runtime,
) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with batch_scope("batch:t", notify=True), rt.sessions() as session:
        session.begin()
        # The awards are not stored here: drop their batch rows (the pipeline flushes them
        # with the awards) and look at the events only.
        with session.no_autoflush:
            _record(session, _award("a1", "L1"), at)
            _record(session, _award("a2", "L1"), at)
            savepoint = session.begin_nested()
            _record(session, _award("a3", "L2"), at)
            savepoint.rollback()
            _record(session, _award("a4", "L2"), at)
            keys = _notify_keys(session)
            issued = session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.kind != LEARNER_NOTIFY)
            )
        session.rollback()
    assert keys == [f"{LEARNER_NOTIFY}:batch:t:L1", f"{LEARNER_NOTIFY}:batch:t:L2"]
    assert issued == 3  # award.issued for a1, a2, a4 (a3's was rolled back)
