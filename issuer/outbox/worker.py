"""Delivering outbox events to subscribers: claim, call, mark done, retry, break the circuit.

:func:`deliver_pending` is one pass: it claims up to ``limit`` due events (a lease, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL so concurrent workers never claim the same rows; SQLite
serializes writers), hands each to the subscribers of its kind, and records each subscriber's
success **together with its receipts** (audit entries such as ``learner.notify``) in one
transaction. Before each call the worker renews the event's lease and checks it still holds it,
so a second worker never handles an event the first one is working on; an event whose worker died
becomes due again when its lease runs out.

Failures retry with exponential backoff (:class:`RetryPolicy`); after ``max_attempts`` the event
is a dead letter (``failed_at``) and the subscriber's give-up receipts are recorded. A subscriber
that raises :class:`UndeliverableError` gives up at once (no learner by that id). A
:class:`CircuitBreaker` per subscriber stops calling a subscriber whose target keeps failing (a
hung mail server costs ``threshold`` timeouts, then nothing until the cool-down ends): its events
are deferred, not counted as attempts.

Delivery is at least once. A subscriber sees an event again only when it was cut off between
performing its effect and the commit that records it (see :mod:`issuer.delivery.notify` for
mail).

:class:`BackgroundWorker` runs passes in a daemon thread (``sijil-issuer serve``, the dev server);
``sijil-issuer outbox work`` runs them as a process of its own.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Final, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from contexts.errors import SijilError
from issuer.outbox.events import CLAIM_REQUESTED
from issuer.outbox.models import OutboxEvent
from issuer.services import audit
from issuer.services.runtime import Runtime, as_utc

__all__ = [
    "BackgroundWorker",
    "CircuitBreaker",
    "DeliveryReport",
    "EventView",
    "Handler",
    "Receipt",
    "RetryPolicy",
    "Subscriber",
    "UndeliverableError",
    "deliver_pending",
    "outbox_counts",
]

log = logging.getLogger(__name__)

WORKER_ACTOR: Final = "outbox"
#: Kinds whose payload is personal data kept only until the event is finished (an address typed
#: into the "email me a new link" form, known or not): emptied when done or given up.
_FORGET_WHEN_FINISHED: Final = frozenset({CLAIM_REQUESTED})


class UndeliverableError(SijilError):
    """The event can never be delivered (its subject is gone): the worker gives up at once."""

    code = "EVENT_UNDELIVERABLE"
    title = "Event cannot be delivered"
    http_status = 422


@dataclass(frozen=True)
class EventView:
    """One claimed event, as a subscriber sees it."""

    id: int
    kind: str
    key: str
    batch: str | None
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime
    delivered_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receipt:
    """An audit entry a subscriber asks to record with its success (or give-up)."""

    action: str
    target_type: str
    target_id: str
    detail: Mapping[str, Any] = field(default_factory=dict)


#: Delivers one event; returns the receipts to record; raises ``SijilError`` on failure.
Handler = Callable[[EventView], Sequence[Receipt]]


class Subscriber(Protocol):
    """Something that reacts to events of some kinds (learner mail, later wallet offers)."""

    @property
    def name(self) -> str:
        """Stable name (stored in ``delivered_to``; keys the circuit breaker)."""
        ...

    @property
    def kinds(self) -> Collection[str]:
        """Event kinds it handles."""
        ...

    def open(self, rt: Runtime, *, timeout: float | None) -> AbstractContextManager[Handler]:
        """A handler for a run of events (one SMTP connection for many mails); ``timeout``
        caps each network wait when the caller has a deadline. May raise ``SijilError``."""
        ...

    def give_up(self, event: EventView, error: SijilError) -> Sequence[Receipt]:
        """Receipts recorded when the worker stops trying ``event``."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``base * 2**(attempt-1)`` capped at ``cap``; dead letter after ``max_attempts``;
    a claim holds an event for ``lease`` (longer than any one delivery can take)."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempt: int) -> timedelta:
        """Wait before retry number ``attempt`` (1 = after the first failure)."""
        scaled: timedelta = self.base * (2 ** max(attempt - 1, 0))
        return min(scaled, self.cap)


@dataclass
class CircuitBreaker:
    """Per subscriber: after ``threshold`` consecutive failures, open for ``cooldown`` seconds
    (doubling on each re-trip up to ``max_cooldown``); then one trial call (half-open) closes it
    on success or re-opens it. ``clock`` is monotonic (a wall-clock step cannot close it)."""

    threshold: int = 3
    cooldown: float = 30.0
    max_cooldown: float = 600.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    trips: int = 0
    open_until: float | None = None

    def is_open(self) -> bool:
        """Whether calls are refused now."""
        return self.open_until is not None and self.clock() < self.open_until

    def retry_in(self) -> float:
        """Seconds until a trial call is allowed (0 when closed)."""
        if self.open_until is None:
            return 0.0
        return max(self.open_until - self.clock(), 0.0)

    def success(self) -> None:
        """A call succeeded: close."""
        self.failures = 0
        self.trips = 0
        self.open_until = None

    def failure(self) -> None:
        """A call failed: count it; trip when the threshold is reached or a trial failed."""
        self.failures += 1
        if self.failures >= self.threshold or self.open_until is not None:
            self.trips += 1
            self.failures = 0
            self.open_until = self.clock() + min(
                self.cooldown * 2 ** (self.trips - 1), self.max_cooldown
            )
            log.warning("outbox: circuit opened for %.0f s", self.retry_in())


@dataclass
class DeliveryReport:
    """What one pass did (event ids)."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    #: receipts recorded on success, and the failures seen (retrying, dead or given up).
    receipts: list[Receipt] = field(default_factory=list)
    failures: list[tuple[EventView, SijilError]] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        """How many events the pass claimed."""
        return sum(
            len(x) for x in (self.delivered, self.retrying, self.dead, self.deferred, self.released)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "delivered": len(self.delivered),
            "retrying": len(self.retrying),
            "dead": len(self.dead),
            "deferred": len(self.deferred),
            "released": len(self.released),
        }


def _view(row: OutboxEvent) -> EventView:
    return EventView(
        id=row.id,
        kind=row.kind,
        key=row.key,
        batch=row.batch,
        payload=dict(row.payload),
        attempts=row.attempts,
        created_at=as_utc(row.created_at),
        delivered_to=tuple(row.delivered_to or ()),
    )


def _claim(
    rt: Runtime,
    *,
    worker: str,
    limit: int,
    policy: RetryPolicy,
    batch: str | None,
    kinds: Collection[str] | None,
) -> list[EventView]:
    """Lease up to ``limit`` due events (oldest first) for ``worker``."""
    now = rt.now()
    due = (
        select(OutboxEvent.id)
        .where(
            OutboxEvent.done_at.is_(None),
            OutboxEvent.failed_at.is_(None),
            OutboxEvent.available_at <= now,
            or_(OutboxEvent.lease_until.is_(None), OutboxEvent.lease_until <= now),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if batch is not None:
        due = due.where(OutboxEvent.batch == batch)
    if kinds is not None:
        due = due.where(OutboxEvent.kind.in_(list(kinds)))
    with rt.transaction() as session:
        ids = list(session.scalars(due))
        if not ids:
            return []
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids))
            .values(lease_until=now + policy.lease, leased_by=worker)
        )
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.id.in_(ids)).order_by(OutboxEvent.id)
        )
        return [_view(row) for row in rows]


def _renew(rt: Runtime, event_id: int, *, worker: str, policy: RetryPolicy) -> bool:
    """Extend our lease on ``event_id``; ``False`` when another worker holds it or it is done."""
    now = rt.now()
    with rt.transaction() as session:
        row = session.execute(
            update(OutboxEvent)
            .where(
                OutboxEvent.id == event_id,
                OutboxEvent.leased_by == worker,
                OutboxEvent.done_at.is_(None),
                OutboxEvent.failed_at.is_(None),
            )
            .values(lease_until=now + policy.lease)
            .returning(OutboxEvent.id)
        ).first()
    return row is not None


def _record(
    rt: Runtime,
    event_id: int,
    values: Mapping[str, Any],
    receipts: Sequence[Receipt],
) -> None:
    """Update the event and record ``receipts`` in one transaction."""
    at = rt.now()
    with rt.transaction() as session:
        session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(**values))
        for receipt in receipts:
            audit.record(
                session,
                at=at,
                actor=WORKER_ACTOR,
                action=receipt.action,
                target_type=receipt.target_type,
                target_id=receipt.target_id,
                detail=dict(receipt.detail),
            )


class _Pass:
    """State of one :func:`deliver_pending` call."""

    def __init__(
        self,
        rt: Runtime,
        subscribers: Sequence[Subscriber],
        *,
        worker: str,
        policy: RetryPolicy,
        breakers: dict[str, CircuitBreaker],
        deadline: float | None,
        timeout: float | None,
        clock: Callable[[], float],
        stack: ExitStack,
    ) -> None:
        self.rt = rt
        self.subscribers = subscribers
        self.worker = worker
        self.policy = policy
        self.breakers = breakers
        self.deadline = deadline
        self.timeout = timeout
        self.clock = clock
        self.stack = stack
        self.handlers: dict[str, Handler] = {}
        self.report = DeliveryReport()

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def breaker(self, name: str) -> CircuitBreaker:
        breaker = self.breakers.get(name)
        if breaker is None:
            breaker = self.breakers[name] = CircuitBreaker(clock=self.clock)
        return breaker

    def handler(self, subscriber: Subscriber) -> Handler:
        handler = self.handlers.get(subscriber.name)
        if handler is None:
            remaining = self.remaining()
            caps = [t for t in (self.timeout, remaining) if t is not None]
            timeout = max(min(caps), 0.1) if caps else None
            handler = self.stack.enter_context(subscriber.open(self.rt, timeout=timeout))
            self.handlers[subscriber.name] = handler
        return handler

    def release(self, event: EventView) -> None:
        _record(self.rt, event.id, {"lease_until": None, "leased_by": None}, ())
        self.report.released.append(event.id)

    def deliver(self, event: EventView) -> None:
        done = list(event.delivered_to)
        wanted = [s for s in self.subscribers if event.kind in s.kinds and s.name not in done]
        defer_for = 0.0
        error: SijilError | None = None
        failed: Subscriber | None = None
        for subscriber in wanted:
            breaker = self.breaker(subscriber.name)
            if breaker.is_open():
                defer_for = max(defer_for, breaker.retry_in())
                continue
            if not _renew(self.rt, event.id, worker=self.worker, policy=self.policy):
                log.info("outbox: event %d was taken over by another worker", event.id)
                return
            try:
                receipts = self.handler(subscriber)(event)
            except UndeliverableError as exc:
                self.report.failures.append((event, exc))
                done.append(subscriber.name)
                log.error("outbox: %s gives up on event %d: %s", subscriber.name, event.id, exc)
                _record(
                    self.rt,
                    event.id,
                    {"delivered_to": list(done), "last_error": _describe(exc)},
                    subscriber.give_up(event, exc),
                )
                continue
            except SijilError as exc:
                self.report.failures.append((event, exc))
                breaker.failure()
                error, failed = exc, subscriber
                log.warning(
                    "outbox: %s failed on event %d (%s): %s",
                    subscriber.name,
                    event.id,
                    exc.code,
                    exc.detail,
                )
                continue
            breaker.success()
            done.append(subscriber.name)
            complete = error is None and not defer_for and subscriber is wanted[-1]
            values: dict[str, Any] = {"delivered_to": list(done)}
            if complete:
                values.update(done_at=self.rt.now(), lease_until=None, leased_by=None)
                values.update(_forget(event))
            _record(self.rt, event.id, values, receipts)
            self.report.receipts.extend(receipts)
            if complete:
                self.report.delivered.append(event.id)
                return
        self.finish(event, done, error, failed, defer_for)

    def finish(
        self,
        event: EventView,
        done: list[str],
        error: SijilError | None,
        failed: Subscriber | None,
        defer_for: float,
    ) -> None:
        now = self.rt.now()
        if error is None and not defer_for:
            values: dict[str, Any] = {"done_at": now, "lease_until": None, "leased_by": None}
            values.update(_forget(event))
            _record(self.rt, event.id, values, ())
            self.report.delivered.append(event.id)
            return
        if error is None:
            _record(
                self.rt,
                event.id,
                {
                    "available_at": now + timedelta(seconds=defer_for),
                    "lease_until": None,
                    "leased_by": None,
                },
                (),
            )
            self.report.deferred.append(event.id)
            return
        attempts = event.attempts + 1
        values = {
            "attempts": attempts,
            "last_error": _describe(error),
            "lease_until": None,
            "leased_by": None,
        }
        if attempts >= self.policy.max_attempts and failed is not None:
            values["failed_at"] = now
            values.update(_forget(event))
            _record(self.rt, event.id, values, failed.give_up(event, error))
            self.report.dead.append(event.id)
            return
        delay = max(self.policy.delay(attempts), timedelta(seconds=defer_for))
        values["available_at"] = now + delay
        _record(self.rt, event.id, values, ())
        self.report.retrying.append(event.id)


def _forget(event: EventView) -> dict[str, Any]:
    return {"payload": {}} if event.kind in _FORGET_WHEN_FINISHED else {}


def _describe(error: SijilError) -> str:
    return f"{error.code}: {error.detail}"[:1000]


def deliver_pending(
    rt: Runtime,
    subscribers: Sequence[Subscriber],
    *,
    limit: int = 100,
    worker: str | None = None,
    policy: RetryPolicy | None = None,
    breakers: dict[str, CircuitBreaker] | None = None,
    deadline: float | None = None,
    timeout: float | None = None,
    batch: str | None = None,
    kinds: Collection[str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """One delivery pass over at most ``limit`` due events (oldest first).

    ``breakers`` (subscriber name -> breaker) carries circuit state from pass to pass (a
    long-running worker keeps one dict). ``deadline`` (on ``clock``, monotonic) stops the pass:
    the subscriber's network waits are capped by the time left, and events not reached are
    released for the next worker. ``timeout`` caps each network wait on its own. ``batch`` /
    ``kinds`` restrict the pass (an import delivers its own batch). Raises the database's
    errors; subscriber failures are recorded, not raised.
    """
    who = worker or f"worker-{uuid.uuid4()}"
    retry = policy or RetryPolicy()
    events = _claim(rt, worker=who, limit=limit, policy=retry, batch=batch, kinds=kinds)
    with ExitStack() as stack:
        state = _Pass(
            rt,
            subscribers,
            worker=who,
            policy=retry,
            breakers={} if breakers is None else breakers,
            deadline=deadline,
            timeout=timeout,
            clock=clock,
            stack=stack,
        )
        for index, event in enumerate(events):
            remaining = state.remaining()
            if remaining is not None and remaining <= 0:
                for rest in events[index:]:
                    state.release(rest)
                break
            state.deliver(event)
        return state.report


def outbox_counts(rt: Runtime) -> dict[str, int]:
    """How many events are pending (due or backing off), done and dead, for status output."""
    with rt.reading() as session:
        rows = session.execute(
            select(OutboxEvent.done_at.is_(None), OutboxEvent.failed_at.is_(None))
        ).all()
    counts = {"pending": 0, "done": 0, "dead": 0}
    for not_done, not_failed in rows:
        if not not_done:
            counts["done"] += 1
        elif not not_failed:
            counts["dead"] += 1
        else:
            counts["pending"] += 1
    return counts


class BackgroundWorker:
    """Delivery passes in a daemon thread until :meth:`stop` (the serving processes).

    ``start`` is idempotent (one thread per worker object); the shell that owns the process
    creates one. Database errors are logged and retried on the next pass, so a database restart
    does not kill mail delivery.
    """

    def __init__(
        self,
        rt: Runtime,
        subscribers: Sequence[Subscriber],
        *,
        interval: float = 2.0,
        limit: int = 100,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.rt = rt
        self.subscribers = tuple(subscribers)
        self.interval = interval
        self.limit = limit
        self.policy = policy or RetryPolicy()
        self.breakers: dict[str, CircuitBreaker] = {}
        self.name = f"worker-{uuid.uuid4()}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> BackgroundWorker:
        """Start the thread (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sijil-outbox", daemon=True)
                self._thread.start()
        return self

    def wake(self) -> None:
        """Run a pass now instead of at the end of the interval."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to finish its current event and wait for it (at most ``timeout``)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> BackgroundWorker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def run_once(self) -> DeliveryReport:
        """One pass with this worker's name, policy and breakers."""
        return deliver_pending(
            self.rt,
            self.subscribers,
            limit=self.limit,
            worker=self.name,
            policy=self.policy,
            breakers=self.breakers,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
            except SQLAlchemyError as exc:
                log.error("outbox worker: database error, retrying: %s", exc)
                report = DeliveryReport()
            if report.claimed and not self._stop.is_set():
                continue
            self._wake.wait(self.interval)
            self._wake.clear()
