"""Learner mail as an outbox subscriber: claim links for new awards, requests and resends.

Nothing here runs inside the transaction or the request that causes a mail. The causes are
events in the outbox (:mod:`issuer.outbox`), committed with the change:

- ``learner.notify``: emitted in an award's transaction, once per (batch, learner), so a learner
  who receives several awards in one batch (one ``POST /progress`` and its retries under the same
  ``Idempotency-Key``, one import) gets one mail, whichever attempt issued them;
- ``claim.requested``: the "email me a new link" form (:func:`queue_claim_request`): the request
  stores the address and answers; the worker looks the address up and mails the learners it
  belongs to (nothing for an unknown address), so the answer and its timing reveal nothing; the
  address is erased from the event once it is handled;
- ``claim.resend``: ``sijil-issuer claim-link LEARNER --send`` (:func:`queue_resend`, audited
  ``learner.resend``, idempotent per learner and resend key).

:class:`LearnerMail` delivers them. A delivered mail is recorded (audit ``learner.notify``, target
the learner) in the same transaction that marks its event done; a learner the worker gives up on
(after :class:`issuer.outbox.worker.RetryPolicy` attempts, or at once when the learner is gone)
gets ``learner.notify_failed``, and :func:`resend_pending` re-arms every undelivered mail
(``sijil-issuer claim-link --all-pending``).

What can still be sent twice (at-least-once at the SMTP boundary): a message the server accepted
when the process died before the commit that marks it done (a few milliseconds per message), or a
message still in the SMTP ``DATA`` exchange at that moment. The re-send carries the same
``Message-ID`` (``<outbox-EVENT-N@host>``), which mail clients use to fold duplicates. A kill at
any other point (after the award commits, after the claim, before the send) loses nothing and
sends nothing twice: the event stays pending or its lease runs out and another worker takes it.

The switch is ``SIJIL_NOTIFY_LEARNERS`` (:attr:`issuer.settings.Settings.notify_learners`,
default on): with it off, batches emit no ``learner.notify``.

Errors: ``NOT_FOUND`` (:func:`queue_resend`, unknown learner); mail errors are the worker's to
record, never raised to the caller of a queueing function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select, update

from contexts.errors import SijilError
from issuer.delivery.claims import CLAIM_LINK_LIFETIME
from issuer.delivery.mail import Mailer, SmtpMailer, mail_session, mailer_for
from issuer.delivery.service import (
    StatusNews,
    learners_with_email,
    send_claim_link,
    send_status_news,
)
from issuer.exports.facts import certificate_facts
from issuer.outbox.events import (
    CLAIM_REQUESTED,
    CLAIM_RESEND,
    LEARNER_NOTIFY,
    STATUS_CHANGED,
    claim_request_key,
    emit,
)
from issuer.outbox.models import OutboxEvent
from issuer.outbox.worker import (
    BackgroundWorker,
    CircuitBreaker,
    DeliveryReport,
    EventView,
    Handler,
    Receipt,
    UndeliverableError,
    deliver_pending,
)
from issuer.services import audit
from issuer.services.awards import get_award
from issuer.services.catalogue import get_learner
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime

__all__ = [
    "LEARNER_MAIL",
    "MAIL_KINDS",
    "NOTIFY_ACTION",
    "NOTIFY_FAILED_ACTION",
    "RESEND_ACTION",
    "LearnerMail",
    "NotificationFailure",
    "NotificationReport",
    "deliver_learner_mail",
    "mail_worker",
    "queue_claim_request",
    "queue_resend",
    "resend_pending",
]

log = logging.getLogger(__name__)

NOTIFY_ACTION: Final = "learner.notify"
NOTIFY_FAILED_ACTION: Final = "learner.notify_failed"
RESEND_ACTION: Final = "learner.resend"
#: The subscriber's name (``delivered_to``, circuit breaker).
LEARNER_MAIL: Final = "learner-mail"
MAIL_KINDS: Final = frozenset({LEARNER_NOTIFY, CLAIM_REQUESTED, CLAIM_RESEND, STATUS_CHANGED})
#: Status changes a learner is told about (a reinstatement only after a suspension).
_TOLD: Final = frozenset({"revoked", "suspended"})


@dataclass(frozen=True)
class NotificationFailure:
    """One learner whose mail could not be sent (yet)."""

    learner: str
    code: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"learner": self.learner, "code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class NotificationReport:
    """Who was mailed, who was not (and why), and how many mails are still queued."""

    sent: tuple[str, ...] = ()
    failed: tuple[NotificationFailure, ...] = ()
    queued: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "sent": list(self.sent),
            "failed": [f.to_dict() for f in self.failed],
            "queued": self.queued,
        }


def _message_id(rt: Runtime, event: EventView, n: int) -> str:
    host = urlsplit(rt.settings.base_url).hostname or "sijil"
    return f"<outbox-{event.id}-{n}@{host}>"


def _lifetime(event: EventView) -> timedelta:
    days = event.payload.get("days")
    return timedelta(days=days) if isinstance(days, int) and days > 0 else CLAIM_LINK_LIFETIME


def _learner_receipt(event: EventView, learner: str) -> Receipt:
    detail: dict[str, Any] = {"event": event.kind, "key": event.key}
    if event.batch is not None:
        detail["batch"] = event.batch
    return Receipt(NOTIFY_ACTION, "learner", learner, detail)


@dataclass(frozen=True)
class LearnerMail:
    """The learner-mail subscriber: one claim-link mail per event (per learner for a request).

    ``mailer`` is called once per delivery run (``MAIL_NOT_CONFIGURED`` then counts as a failed
    attempt, retried later); SMTP messages of a run share one connection.
    """

    mailer: Callable[[], Mailer]
    name: str = LEARNER_MAIL
    kinds: Collection[str] = field(default=MAIL_KINDS)

    @contextmanager
    def open(self, rt: Runtime, *, timeout: float | None) -> Iterator[Handler]:
        """A handler sending over one mail session; ``timeout`` caps SMTP waits."""
        mailer = self.mailer()
        if isinstance(mailer, SmtpMailer) and timeout is not None and timeout < mailer.timeout:
            mailer = replace(mailer, timeout=timeout)
        with mail_session(mailer) as session:

            def handle(event: EventView) -> Sequence[Receipt]:
                return _deliver(rt, session, event)

            yield handle

    def give_up(self, event: EventView, error: SijilError) -> Sequence[Receipt]:
        """``learner.notify_failed`` for the learner (nothing for an address request)."""
        learner = event.payload.get("learner")
        if not isinstance(learner, str):
            return ()
        detail = {"code": error.code, "detail": error.detail[:500], "event": event.kind}
        return (Receipt(NOTIFY_FAILED_ACTION, "learner", learner, detail),)


def _status_news(rt: Runtime, event: EventView) -> tuple[str, StatusNews] | None:
    """The learner and what to tell them about a ``status.changed`` event (``None``: nothing)."""
    status, before = event.payload.get("status"), event.payload.get("before")
    if status not in _TOLD and not (status == "active" and before == "suspended"):
        return None
    try:
        award = get_award(rt, str(event.payload.get("award", "")))
    except NotFoundError as exc:
        raise UndeliverableError("the award of this status change is gone") from exc
    reason = str(event.payload.get("reason") or "")
    facts = certificate_facts(award.credential())
    title = facts.title or facts.achievement_name
    return award.learner, StatusNews(
        title=title,
        status=str(status),
        reason="" if reason.startswith("superseded by") else reason,
        replaced_by=reason.startswith("superseded by"),
    )


def _deliver(rt: Runtime, mailer: Mailer, event: EventView) -> Sequence[Receipt]:
    if event.kind == STATUS_CHANGED:
        told = _status_news(rt, event)
        if told is None:
            return ()
        learner, news = told
        send_status_news(rt, learner, news, mailer=mailer, message_id=_message_id(rt, event, 0))
        return (_learner_receipt(event, learner),)
    if event.kind == CLAIM_REQUESTED:
        learners = learners_with_email(rt, str(event.payload.get("email", "")))
    else:
        learners = [str(event.payload.get("learner", ""))]
    receipts: list[Receipt] = []
    for n, learner in enumerate(learners):
        try:
            view = get_learner(rt, learner)
        except NotFoundError as exc:
            raise UndeliverableError(f"no learner {learner!r} to mail") from exc
        send_claim_link(
            rt, view, mailer=mailer, lifetime=_lifetime(event), message_id=_message_id(rt, event, n)
        )
        receipts.append(_learner_receipt(event, learner))
    return receipts


def queue_claim_request(rt: Runtime, email: str) -> None:
    """Queue an "email me a new link" request for ``email``, known or not (one insert either
    way; at most one mail per address per ten minutes, however often the form is sent)."""
    address = email.strip().lower()[:320]
    if not address or "@" not in address:
        return
    at = rt.now()
    with rt.transaction() as session:
        emit(
            session, CLAIM_REQUESTED, {"email": address}, key=claim_request_key(address, at), at=at
        )


def queue_resend(
    rt: Runtime,
    learner: str,
    *,
    actor: str,
    lifetime: timedelta = CLAIM_LINK_LIFETIME,
    key: str | None = None,
) -> bool:
    """Queue a fresh claim-link mail for ``learner``; audited ``learner.resend``.

    Idempotent per ``key`` (default: today's UTC date): running the same resend loop twice mails
    nobody twice. The event's batch is ``claim.resend:<learner>:<key>`` (to deliver it at once).
    Returns whether a mail was queued (``False``: this key was already used).
    Raises ``NOT_FOUND``.
    """
    view = get_learner(rt, learner)
    at = rt.now()
    run = key or at.date().isoformat()
    with rt.transaction() as session:
        queued = emit(
            session,
            CLAIM_RESEND,
            {"learner": view.external_id, "days": lifetime.days},
            key=f"{CLAIM_RESEND}:{view.external_id}:{run}",
            at=at,
            batch=f"{CLAIM_RESEND}:{view.external_id}:{run}",
        )
        if queued:
            audit.record(
                session,
                at=at,
                actor=actor,
                action=RESEND_ACTION,
                target_type="learner",
                target_id=view.external_id,
                detail={"key": run, "days": lifetime.days},
            )
    return queued


def resend_pending(rt: Runtime, *, actor: str) -> list[str]:
    """Make every undelivered learner mail (backing off or given up) due now, attempts reset;
    audited ``learner.resend`` per learner. Returns the learners (sorted, each once).

    Idempotent: it re-arms the same events (each still mails its learner once)."""
    at = rt.now()
    with rt.transaction() as session:
        rows = list(
            session.scalars(
                select(OutboxEvent)
                .where(
                    OutboxEvent.done_at.is_(None),
                    OutboxEvent.kind.in_([LEARNER_NOTIFY, CLAIM_RESEND]),
                )
                .order_by(OutboxEvent.id)
                .with_for_update()
            )
        )
        learners: dict[str, list[str]] = {}
        for row in rows:
            learner = row.payload.get("learner")
            if isinstance(learner, str):
                learners.setdefault(learner, []).append(row.key)
        if rows:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_([row.id for row in rows]))
                .values(attempts=0, failed_at=None, available_at=at)
            )
        for learner, keys in sorted(learners.items()):
            audit.record(
                session,
                at=at,
                actor=actor,
                action=RESEND_ACTION,
                target_type="learner",
                target_id=learner,
                detail={"rearmed": keys},
            )
    return sorted(learners)


def _report(rt: Runtime, delivery: DeliveryReport, batch: str | None) -> NotificationReport:
    sent = sorted({r.target_id for r in delivery.receipts if r.action == NOTIFY_ACTION})
    failed: dict[str, NotificationFailure] = {}
    for event, error in delivery.failures:
        learner = event.payload.get("learner")
        if isinstance(learner, str) and learner not in sent:
            failed[learner] = NotificationFailure(learner, error.code, error.detail)
    query = select(OutboxEvent.id).where(
        OutboxEvent.done_at.is_(None),
        OutboxEvent.failed_at.is_(None),
        OutboxEvent.kind.in_(list(MAIL_KINDS)),
    )
    if batch is not None:
        query = query.where(OutboxEvent.batch == batch)
    with rt.reading() as session:
        queued = len(list(session.scalars(query)))
    return NotificationReport(
        sent=tuple(sent), failed=tuple(failed[k] for k in sorted(failed)), queued=queued
    )


def deliver_learner_mail(
    rt: Runtime,
    *,
    mailer: Callable[[], Mailer],
    batch: str | None = None,
    wait: float = 5.0,
    limit: int = 200,
    kinds: Collection[str] = MAIL_KINDS,
) -> NotificationReport:
    """Deliver the due learner mail (of ``batch`` only, when given; of ``kinds``) now, in this
    thread.

    Bounded: each SMTP wait is capped at ``wait`` seconds and the first failure stops the run
    (circuit breaker with threshold 1), leaving the rest queued with backoff for the outbox
    worker. A hung mail server costs at most ``wait`` seconds; a refusing one, one round trip.
    """
    breakers = {LEARNER_MAIL: CircuitBreaker(threshold=1)}
    subscriber = LearnerMail(mailer)
    total = DeliveryReport()
    while True:
        report = deliver_pending(
            rt,
            [subscriber],
            limit=limit,
            breakers=breakers,
            timeout=wait,
            batch=batch,
            kinds=kinds,
        )
        total.receipts.extend(report.receipts)
        total.failures.extend(report.failures)
        if not report.claimed or breakers[LEARNER_MAIL].is_open():
            break
    return _report(rt, total, batch)


def mail_worker(
    rt: Runtime,
    *,
    mailer: Callable[[], Mailer] | None = None,
    interval: float = 2.0,
) -> BackgroundWorker:
    """A background outbox worker (not started) whose subscriber is learner mail
    (``mailer`` default: :func:`issuer.delivery.mail.mailer_for`, read per run)."""

    def from_env() -> Mailer:
        return mailer_for(rt.settings)

    return BackgroundWorker(rt, [LearnerMail(mailer or from_env)], interval=interval)
