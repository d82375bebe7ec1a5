"""Emitting domain events inside the transaction that makes the change.

:func:`emit` adds one event to the caller's session: it commits with the change or not at all,
so a crash after the commit loses no event and a rollback announces nothing. The ``key`` makes
emitting idempotent (``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL): a re-run,
a retried request or a replayed import emits nothing twice.

Batches: a shell that issues awards for a batch of input (one ``POST /progress``, its retries
under the same ``Idempotency-Key``, one CSV import) opens :func:`batch_scope`. The issuance
pipeline calls :func:`record_award_issued` in each award's transaction; inside a batch it also
records the award for the batch (:func:`batch_award_ids`, so a retry reports every award the batch
produced) and, when the batch mails learners, emits one ``learner.notify`` per (batch, learner):
however many awards a learner gets in a batch, and whichever attempt issues them, they are mailed
once. The scope is a context variable (per thread / per request), so the pipeline's signatures
stay as they are.

Event kinds: ``award.issued``, ``status.changed``, ``learner.notify``, ``claim.requested``,
``claim.resend``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuer.db.txmemo import transaction_memo
from issuer.outbox.models import BatchAward, OutboxEvent

if TYPE_CHECKING:
    from issuer.services.awards import AwardView

__all__ = [
    "AWARD_ISSUED",
    "CLAIM_REQUESTED",
    "CLAIM_RESEND",
    "LEARNER_NOTIFY",
    "STATUS_CHANGED",
    "AwardIssuedRows",
    "Batch",
    "award_issued_rows",
    "batch_award_ids",
    "batch_scope",
    "claim_request_key",
    "current_batch",
    "emit",
    "emit_all",
    "event_row",
    "record_award_issued",
    "record_status_changed",
]

AWARD_ISSUED: Final = "award.issued"
STATUS_CHANGED: Final = "status.changed"
LEARNER_NOTIFY: Final = "learner.notify"
CLAIM_REQUESTED: Final = "claim.requested"
CLAIM_RESEND: Final = "claim.resend"

#: One "email me a link" mail per address per window, however often the form is sent.
CLAIM_REQUEST_WINDOW_SECONDS: Final = 600


@dataclass(frozen=True)
class Batch:
    """The batch whose awards are being issued: its id and whether its learners are mailed."""

    id: str
    notify: bool


_CURRENT: Final[ContextVar[Batch | None]] = ContextVar("sijil_outbox_batch", default=None)


def current_batch() -> Batch | None:
    """The innermost open batch of this thread / request, or ``None``."""
    return _CURRENT.get()


@contextmanager
def batch_scope(batch_id: str | None = None, *, notify: bool) -> Iterator[Batch]:
    """Issue awards inside ``with batch_scope(...) as batch``.

    An already open batch wins (a retried request opens its batch before the view calls
    ``record_progress``, which opens one of its own): the outer id and notify flag are kept.
    ``batch_id`` defaults to a fresh UUID (a batch that cannot be retried as itself).
    """
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    batch = Batch(batch_id or f"batch:{uuid.uuid4()}", notify)
    token = _CURRENT.set(batch)
    try:
        yield batch
    finally:
        _CURRENT.reset(token)


def _insert(session: Session) -> Callable[..., Any]:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


_EVENT_INSERTS: dict[tuple[str, bool], Any] = {}


def _event_insert(session: Session, *, returning: bool = True) -> Any:
    """``INSERT INTO outbox_events ... ON CONFLICT (key) DO NOTHING`` (``RETURNING id`` when
    ``returning``), built once per dialect (the values are passed as parameters, so no
    statement is built per event)."""
    name = session.get_bind().dialect.name
    stmt = _EVENT_INSERTS.get((name, returning))
    if stmt is None:
        events = cast("Table", OutboxEvent.__table__)
        stmt = _insert(session)(events).on_conflict_do_nothing(index_elements=["key"])
        if returning:
            stmt = stmt.returning(events.c.id)
        _EVENT_INSERTS[name, returning] = stmt
    return stmt


def event_row(
    kind: str,
    payload: Mapping[str, Any],
    *,
    key: str,
    at: datetime,
    batch: str | None = None,
) -> dict[str, Any]:
    """The ``outbox_events`` row of event ``kind`` (due at once: ``at`` is the change's time)."""
    return {
        "kind": kind,
        "key": key[:500],
        "batch": batch,
        "payload": dict(payload),
        "created_at": at,
        "available_at": at,
        "attempts": 0,
        "delivered_to": [],
    }


def emit(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    *,
    key: str,
    at: datetime,
    batch: str | None = None,
) -> bool:
    """Add event ``kind`` to ``session``'s transaction unless ``key`` was emitted before.

    Call it inside the transaction that makes the change (the event commits with it). Returns
    whether the event is new. ``payload`` must be JSON-serializable; ``at`` is the change's time
    (the event is due at once).
    """
    params = event_row(kind, payload, key=key, at=at, batch=batch)
    if session.autoflush:  # as the ORM insert this replaces: pending rows are written first
        session.flush()
    return session.execute(_event_insert(session), params).first() is not None


def emit_all(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add :func:`event_row` rows in one statement (each unless its key was emitted before)."""
    if rows:
        session.execute(_event_insert(session, returning=False), list(rows))


def _notified(session: Session) -> set[tuple[str, str]]:
    """The (batch, learner) pairs whose ``learner.notify`` this transaction already emitted;
    empty again after a commit or any rollback (:mod:`issuer.db.txmemo`)."""
    return transaction_memo(session, "outbox_notified", set)


@dataclass
class AwardIssuedRows:
    """What :func:`award_issued_rows` adds for awards: outbox events and batch records."""

    events: list[dict[str, Any]] = field(default_factory=list)
    batch_awards: list[dict[str, Any]] = field(default_factory=list)


def award_issued_rows(
    session: Session, award: AwardView, *, at: datetime, into: AwardIssuedRows
) -> None:
    """Append the rows recording ``award``'s issuance to ``into``: ``award.issued``; inside a
    :func:`batch_scope` also the award's batch record and, when the batch mails learners,
    ``learner.notify`` once per (batch, learner) in the transaction."""
    batch = _CURRENT.get()
    into.events.append(
        event_row(
            AWARD_ISSUED,
            {
                "award": award.id,
                "awardType": award.award_type,
                "achievement": award.achievement_code,
                "learner": award.learner,
                "credentialId": award.credential_id,
                **({"batch": batch.id} if batch is not None else {}),
            },
            key=f"{AWARD_ISSUED}:{award.id}",
            at=at,
            batch=batch.id if batch is not None else None,
        )
    )
    if batch is None:
        return
    into.batch_awards.append({"batch": batch.id, "award_id": award.id, "recorded_at": at})
    if batch.notify:
        emitted = _notified(session)
        if (batch.id, award.learner) in emitted:
            return
        into.events.append(
            event_row(
                LEARNER_NOTIFY,
                {"learner": award.learner, "batch": batch.id},
                key=f"{LEARNER_NOTIFY}:{batch.id}:{award.learner}",
                at=at,
                batch=batch.id,
            )
        )
        emitted.add((batch.id, award.learner))


def record_award_issued(session: Session, award: AwardView, *, at: datetime) -> None:
    """The issuance pipeline's hook, called in the award's transaction after it is stored.

    Emits ``award.issued``; inside a :func:`batch_scope` also records the award for the batch and,
    when the batch mails learners, emits ``learner.notify`` once per (batch, learner). A
    transaction that issues several awards to one learner emits (and tries) that event once.
    """
    rows = AwardIssuedRows()
    award_issued_rows(session, award, at=at, into=rows)
    for event in rows.events:
        emit(
            session,
            event["kind"],
            event["payload"],
            key=event["key"],
            at=event["created_at"],
            batch=event["batch"],
        )
    for record in rows.batch_awards:
        session.add(BatchAward(**record))


def record_status_changed(
    session: Session, award_id: str, *, before: str, after: str, reason: str, at: datetime
) -> None:
    """The status service's hook, called in the transaction that changes an award's status."""
    emit(
        session,
        STATUS_CHANGED,
        {"award": award_id, "before": before, "status": after, "reason": reason},
        key=f"{STATUS_CHANGED}:{award_id}:{after}:{at.isoformat()}",
        at=at,
    )


def claim_request_key(address: str, at: datetime) -> str:
    """Dedupe key of an "email me a link" request: the address (hashed) and the time window."""
    digest = hashlib.sha256(address.encode("utf-8")).hexdigest()[:40]
    window = int(at.timestamp()) // CLAIM_REQUEST_WINDOW_SECONDS
    return f"{CLAIM_REQUESTED}:{digest}:{window}"


def batch_award_ids(session: Session, batch_id: str) -> list[str]:
    """The awards batch ``batch_id`` issued (every attempt), oldest first."""
    return list(
        session.scalars(
            select(BatchAward.award_id)
            .where(BatchAward.batch == batch_id)
            .order_by(BatchAward.recorded_at, BatchAward.award_id)
        )
    )
