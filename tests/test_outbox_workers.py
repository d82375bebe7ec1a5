"""Outbox workers on SQLite and PostgreSQL: concurrent workers never deliver one event twice.

The subscriber here is a real one that records what it is handed (the learner-mail subscriber is
exercised in ``test_outbox_delivery.py``); the database is real (``db_url`` runs each test on
SQLite and on PostgreSQL, where claims use ``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contexts.errors import SijilError
from issuer.outbox.events import emit
from issuer.outbox.worker import (
    CircuitBreaker,
    DeliveryReport,
    EventView,
    Handler,
    Receipt,
    RetryPolicy,
    deliver_pending,
    outbox_counts,
)
from issuer.services.audit import list_audit
from issuer.services.runtime import Runtime


class _TargetDownError(SijilError):
    code = "TEST_TARGET_DOWN"
    title = "The test target is down"
    http_status = 503


@dataclass
class Recorder:
    """Handles ``test.*`` events by remembering their ids (and failing while ``down``)."""

    name: str = "recorder"
    kinds: Collection[str] = ("test.event",)
    down: bool = False
    handled: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def open(self, rt: Runtime, *, timeout: float | None) -> Iterator[Handler]:
        def handle(event: EventView) -> Sequence[Receipt]:
            if self.down:
                raise _TargetDownError("down")
            with self.lock:
                self.handled.append(event.id)
            return (Receipt("test.handled", "event", str(event.id)),)

        yield handle

    def give_up(self, event: EventView, error: SijilError) -> Sequence[Receipt]:
        return (Receipt("test.given_up", "event", str(event.id), {"code": error.code}),)


def _emit(rt: Runtime, n: int) -> None:
    with rt.transaction() as session:
        for i in range(n):
            emit(session, "test.event", {"i": i}, key=f"test.event:{i}", at=rt.now())


def _set_clock(rt: Runtime, at: datetime) -> None:
    def clock() -> datetime:
        return at

    rt.clock = clock


def test_two_workers_racing_deliver_each_event_exactly_once(rt: Runtime) -> None:
    _emit(rt, 30)
    recorder = Recorder()
    reports: list[DeliveryReport] = []

    def work() -> None:
        while True:
            report = deliver_pending(rt, [recorder], limit=3)
            reports.append(report)
            if not report.claimed:
                return

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(recorder.handled) == 30
    assert len(set(recorder.handled)) == 30
    assert sum(len(r.delivered) for r in reports) == 30
    assert outbox_counts(rt) == {"pending": 0, "done": 30, "dead": 0}
    # each success was recorded with its receipt, in the transaction that marked it done
    assert len(list_audit(rt, action="test.handled", limit=100)) == 30


def test_a_failing_subscriber_backs_off_opens_its_circuit_and_recovers(rt: Runtime) -> None:
    _emit(rt, 5)
    recorder = Recorder(down=True)
    breakers: dict[str, CircuitBreaker] = {}
    report = deliver_pending(rt, [recorder], breakers=breakers)
    assert (len(report.retrying), len(report.deferred)) == (3, 2)  # threshold 3, then open
    assert deliver_pending(rt, [recorder], breakers=breakers).claimed == 0
    recorder.down = False
    _set_clock(rt, rt.now() + timedelta(hours=1))
    breakers.clear()
    assert len(deliver_pending(rt, [recorder], breakers=breakers).delivered) == 5


def test_a_subscriber_that_never_succeeds_ends_in_a_dead_letter_with_its_receipt(
    rt: Runtime,
) -> None:
    _emit(rt, 1)
    recorder = Recorder(down=True)
    policy = RetryPolicy(base=timedelta(seconds=1), max_attempts=3)
    start = rt.now()
    for minute in range(3):
        _set_clock(rt, start + timedelta(minutes=minute))
        deliver_pending(rt, [recorder], policy=policy, breakers={})
    assert outbox_counts(rt) == {"pending": 0, "done": 0, "dead": 1}
    given_up = list_audit(rt, action="test.given_up")
    assert [e.detail["code"] for e in given_up] == ["TEST_TARGET_DOWN"]


def test_circuit_breaker_half_opens_after_its_cooldown_and_doubles_it_on_a_failed_trial() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10.0, clock=lambda: now[0])
    breaker.failure()
    assert not breaker.is_open()
    breaker.failure()
    assert breaker.is_open()
    assert breaker.retry_in() == 10.0
    now[0] = 10.0
    assert not breaker.is_open()  # half-open: one trial
    breaker.failure()
    assert breaker.retry_in() == 20.0
    now[0] = 30.0
    breaker.success()
    assert not breaker.is_open()
    assert breaker.trips == 0


def test_retry_policy_backs_off_exponentially_up_to_its_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=5))
    delays = [policy.delay(n).total_seconds() for n in range(1, 7)]
    assert delays == [30, 60, 120, 240, 300, 300]
