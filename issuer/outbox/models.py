"""Storage of the transactional outbox: domain events and the awards each batch produced.

:class:`OutboxEvent` is one domain event (``award.issued``, ``status.changed``,
``learner.notify``, ``claim.requested``, ``claim.resend``), written in the same transaction as the
change it announces. ``key`` is unique: emitting the same event twice (a re-run, a retried
request) stores it once. The delivery columns belong to the worker
(:mod:`issuer.outbox.worker`): ``lease_until``/``leased_by`` say which worker holds the event,
``available_at`` when it may next be tried (exponential backoff), ``delivered_to`` the subscribers
that already handled it, ``done_at`` when every subscriber has, ``failed_at`` when the worker gave
up (dead letter; ``last_error`` says why).

:class:`BatchAward` records which awards a batch (one ``POST /progress`` and its retries under the
same ``Idempotency-Key``, one import) produced, so a retry can report all of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import Base

__all__ = ["BatchAward", "OutboxEvent"]


class OutboxEvent(Base):
    """One domain event waiting for (or done with) delivery to its subscribers."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_due", "done_at", "failed_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    #: dedupe key: the same change never emits its event twice.
    key: Mapped[str] = mapped_column(String(500), unique=True)
    batch: Mapped[str | None] = mapped_column(String(300), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))
    delivered_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    done_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))


class BatchAward(Base):
    """An award issued by a batch (recorded in the award's own transaction)."""

    __tablename__ = "outbox_batch_awards"

    batch: Mapped[str] = mapped_column(String(300), primary_key=True)
    award_id: Mapped[str] = mapped_column(ForeignKey("awards.id"), primary_key=True)
    recorded_at: Mapped[datetime]
