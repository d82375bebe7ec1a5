"""A transactional outbox of domain events, delivered to subscribers by workers.

A change and the event announcing it commit in one transaction (:func:`emit`, in
:mod:`issuer.outbox.events`); workers (:mod:`issuer.outbox.worker`: ``deliver_pending``, the
in-process :class:`~issuer.outbox.worker.BackgroundWorker`, ``sijil-issuer outbox work``) claim
due events, hand them to subscribers (learner mail today), mark them done, and retry failures with
exponential backoff behind a circuit breaker per subscriber. Nothing sends mail or calls out inside
the transaction or the request that made the change.

This package's ``__init__`` imports only the storage and emit side (light, no runtime), so the
models register with :class:`issuer.db.models.Base` wherever the database is set up.
"""

from __future__ import annotations

from issuer.outbox.events import (
    AWARD_ISSUED,
    CLAIM_REQUESTED,
    CLAIM_RESEND,
    LEARNER_NOTIFY,
    STATUS_CHANGED,
    Batch,
    batch_award_ids,
    batch_scope,
    current_batch,
    emit,
    record_award_issued,
    record_status_changed,
)
from issuer.outbox.models import BatchAward, OutboxEvent

__all__ = [
    "AWARD_ISSUED",
    "CLAIM_REQUESTED",
    "CLAIM_RESEND",
    "LEARNER_NOTIFY",
    "STATUS_CHANGED",
    "Batch",
    "BatchAward",
    "OutboxEvent",
    "batch_award_ids",
    "batch_scope",
    "current_batch",
    "emit",
    "record_award_issued",
    "record_status_changed",
]
