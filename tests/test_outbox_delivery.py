"""The outbox: events commit with their change; workers deliver learner mail exactly once.

Real parts only: the Flask app over a seeded SQLite issuer, the outbox worker's own functions,
and a real local SMTP server that accepts, refuses, hangs (accepts the connection and never
answers) or stalls in the middle of a message. Time moves by setting the runtime's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from issuer_web_support import WebIssuer, auth, web_issuer
from outbox_smtp import SmtpServer, smtp_server
from sqlalchemy import func, select

from issuer.delivery.mail import Mailer, OutboxMailer, SmtpMailer
from issuer.delivery.notify import (
    LEARNER_MAIL,
    NOTIFY_ACTION,
    NOTIFY_FAILED_ACTION,
    RESEND_ACTION,
    LearnerMail,
    deliver_learner_mail,
    queue_resend,
    resend_pending,
)
from issuer.outbox.events import (
    AWARD_ISSUED,
    CLAIM_REQUESTED,
    LEARNER_NOTIFY,
    STATUS_CHANGED,
    emit,
)
from issuer.outbox.models import OutboxEvent
from issuer.outbox.worker import CircuitBreaker, RetryPolicy, deliver_pending, outbox_counts
from issuer.services.audit import list_audit
from issuer.services.catalogue import get_learner
from issuer.services.runtime import Runtime
from issuer.services.status import install_status_lists

# -- set-up --------------------------------------------------------------------------------------


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path / "instance", demo=True) as issuer:
        # The demo's own claim-link mails (queued when it was seeded) go to a folder first.
        deliver_learner_mail(issuer.rt, mailer=lambda: OutboxMailer(tmp_path / "seed"))
        yield issuer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server("accept") as server:
        yield server


def _mailer(server: SmtpServer, *, timeout: float = 5.0) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", server.port, starttls=False, timeout=timeout)


def _subscriber(mailer: Mailer) -> LearnerMail:
    def make() -> Mailer:
        return mailer

    return LearnerMail(make)


def _esg(learner: str) -> list[dict[str, Any]]:
    """Events that earn ``learner`` (new to the issuer) a COC and a COA for ESG201."""
    who = {"learnerEmail": f"{learner.lower()}@student.example.edu.my", "learnerName": learner}
    done = [
        {
            "learner": learner,
            "microCredential": "ESG201",
            "type": "materialCompleted",
            "item": f"ESG201-M{i}",
            **who,
        }
        for i in (1, 2)
    ]
    results = [
        {
            "learner": learner,
            "microCredential": "ESG201",
            "type": "assessmentResult",
            "item": f"ESG201-{item}",
            "score": 90,
            **who,
        }
        for item in ("QZ", "PJ")
    ]
    return done + results


def _post(web: WebIssuer, learners: list[str], *, key: str | None = None) -> dict[str, Any]:
    headers = auth(web.tokens["issue"])
    if key is not None:
        headers["Idempotency-Key"] = key
    events = [event for learner in learners for event in _esg(learner)]
    response = web.client().post("/progress", headers=headers, json={"events": events})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _address(learner: str) -> str:
    return f"{learner.lower()}@student.example.edu.my"


def _events(rt: Runtime, kind: str) -> list[OutboxEvent]:
    with rt.reading() as session:
        return list(
            session.scalars(
                select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)
            )
        )


def _later(rt: Runtime, delta: timedelta) -> None:
    """Move the runtime's clock ``delta`` ahead of the real one."""
    start = rt.now()
    real = datetime.now(start.tzinfo)

    def clock() -> datetime:
        return start + (datetime.now(start.tzinfo) - real) + delta

    rt.clock = clock


# -- events commit with the change ---------------------------------------------------------------


def test_progress_queues_events_with_the_awards_and_sends_no_mail_in_the_request(
    web: WebIssuer, smtp: SmtpServer
) -> None:
    outcome = _post(web, ["S6001", "S6002"])
    assert len(outcome["issued"]) == 4
    assert smtp.connections == 0  # the request itself never talks to a mail server
    issued = {e.payload["award"] for e in _events(web.rt, AWARD_ISSUED)}
    assert {a["id"] for a in outcome["issued"]} <= issued
    notify = [e for e in _events(web.rt, LEARNER_NOTIFY) if e.done_at is None]
    assert sorted(e.payload["learner"] for e in notify) == ["S6001", "S6002"]
    report = deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert [r.target_id for r in report.receipts] == ["S6001", "S6002"]
    assert outbox_counts(web.rt)["pending"] == 0  # award.issued has no subscriber yet: done
    assert smtp.recipients() == [_address("S6001"), _address("S6002")]
    assert smtp.connections == 1
    mailed = sorted(e.target_id for e in list_audit(web.rt, action=NOTIFY_ACTION))
    assert [m for m in mailed if m.startswith("S6")] == ["S6001", "S6002"]
    assert deliver_pending(web.rt, [_subscriber(_mailer(smtp))]).claimed == 0


def test_emit_with_a_used_key_stores_nothing_twice(web: WebIssuer) -> None:
    at = web.rt.now()
    with web.rt.transaction() as session:
        assert emit(session, "test.kind", {"n": 1}, key="test:once", at=at) is True
        assert emit(session, "test.kind", {"n": 2}, key="test:once", at=at) is False
    with web.rt.reading() as session:
        rows = list(session.scalars(select(OutboxEvent).where(OutboxEvent.key == "test:once")))
    assert [r.payload for r in rows] == [{"n": 1}]


def test_a_rolled_back_change_emits_nothing(web: WebIssuer) -> None:
    def change() -> None:
        with web.rt.transaction() as session:
            emit(session, "test.kind", {}, key="test:rolled-back", at=web.rt.now())
            raise KeyError("the change fails")

    with pytest.raises(KeyError):
        change()
    with web.rt.reading() as session:
        found = session.scalar(select(OutboxEvent.id).where(OutboxEvent.key == "test:rolled-back"))
    assert found is None


def test_replayed_events_queue_no_second_mail(web: WebIssuer, smtp: SmtpServer) -> None:
    _post(web, ["S6003"])
    again = _post(web, ["S6003"])
    assert again["issued"] == []
    deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert smtp.recipients() == [_address("S6003")]


def test_a_revocation_emits_status_changed_in_its_transaction(web: WebIssuer) -> None:
    install_status_lists(web.rt)
    award = _post(web, ["S6004"])["issued"][0]["id"]
    response = web.client().post(
        f"/awards/{award}/revoke", headers=auth(web.tokens["admin"]), json={"reason": "test"}
    )
    assert response.status_code == 200, response.get_json()
    changes = [e.payload for e in _events(web.rt, STATUS_CHANGED)]
    assert changes == [{"award": award, "before": "active", "status": "revoked", "reason": "test"}]


# -- failures: backoff, circuit breaker, dead letters --------------------------------------------


def test_hung_mail_server_trips_the_breaker_instead_of_waiting_for_every_learner(
    web: WebIssuer,
) -> None:
    learners = [f"S61{n:02d}" for n in range(6)]
    _post(web, learners)
    breakers: dict[str, CircuitBreaker] = {}
    with smtp_server("hang") as hung:
        mail = _subscriber(_mailer(hung, timeout=0.3))
        report = deliver_pending(web.rt, [mail], breakers=breakers)
        # three timeouts open the circuit; the other learners are deferred without a try
        assert hung.connections == 3
        assert len(report.retrying) == 3
        assert len(report.deferred) == 3
        assert breakers[LEARNER_MAIL].is_open()
        assert deliver_pending(web.rt, [mail], breakers=breakers).claimed == 0
    assert outbox_counts(web.rt)["pending"] == 6
    with smtp_server("accept") as recovered:
        _later(web.rt, timedelta(hours=2))  # past the backoff and the breaker's cool-down
        fresh = _subscriber(_mailer(recovered))
        report = deliver_pending(web.rt, [fresh])
        assert len(report.delivered) == 6
        assert recovered.recipients() == sorted(_address(learner) for learner in learners)


def test_refusing_server_retries_with_backoff_then_delivers_once(web: WebIssuer) -> None:
    _post(web, ["S6201"])
    with smtp_server("refuse") as refusing:
        report = deliver_pending(web.rt, [_subscriber(_mailer(refusing))])
        assert len(report.retrying) == 1
        assert refusing.messages == []
    (event,) = [e for e in _events(web.rt, LEARNER_NOTIFY) if e.payload["learner"] == "S6201"]
    assert event.attempts == 1
    assert event.last_error is not None
    assert event.last_error.startswith("MAIL_DELIVERY_FAILED")
    with smtp_server("accept") as working:
        mail = _subscriber(_mailer(working))
        assert deliver_pending(web.rt, [mail]).claimed == 0  # backing off: not due yet
        _later(web.rt, RetryPolicy().delay(1) + timedelta(seconds=1))
        assert len(deliver_pending(web.rt, [mail]).delivered) == 1
        assert working.recipients() == [_address("S6201")]


def test_after_max_attempts_the_learner_is_recorded_and_all_pending_resends_once(
    web: WebIssuer,
) -> None:
    _post(web, ["S6301", "S6302"])
    policy = RetryPolicy(base=timedelta(seconds=1), max_attempts=2)
    with smtp_server("refuse") as refusing:
        mail = _subscriber(_mailer(refusing))
        deliver_pending(web.rt, [mail], policy=policy)
        _later(web.rt, timedelta(minutes=1))
        report = deliver_pending(web.rt, [mail], policy=policy)
    assert len(report.dead) == 2
    failed = sorted(e.target_id for e in list_audit(web.rt, action=NOTIFY_FAILED_ACTION))
    assert failed == ["S6301", "S6302"]
    assert outbox_counts(web.rt)["dead"] == 2
    assert resend_pending(web.rt, actor="test") == ["S6301", "S6302"]
    assert resend_pending(web.rt, actor="test") == ["S6301", "S6302"]  # re-arms the same events
    assert len(list_audit(web.rt, action=RESEND_ACTION)) == 4
    with smtp_server("accept") as working:
        deliver_pending(web.rt, [_subscriber(_mailer(working))])
        assert working.recipients() == [_address("S6301"), _address("S6302")]
        assert resend_pending(web.rt, actor="test") == []


def test_a_learner_who_is_gone_is_given_up_at_once(web: WebIssuer, smtp: SmtpServer) -> None:
    with web.rt.transaction() as session:
        emit(
            session,
            LEARNER_NOTIFY,
            {"learner": "NOBODY"},
            key="learner.notify:test:NOBODY",
            at=web.rt.now(),
        )
    report = deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert [(event.payload["learner"], error.code) for event, error in report.failures] == [
        ("NOBODY", "EVENT_UNDELIVERABLE")
    ]
    given_up = list_audit(web.rt, action=NOTIFY_FAILED_ACTION)
    assert [(e.target_id, e.detail["code"]) for e in given_up] == [
        ("NOBODY", "EVENT_UNDELIVERABLE")
    ]
    assert outbox_counts(web.rt)["pending"] == 0  # nothing left to try
    assert smtp.connections == 0


# -- concurrency ---------------------------------------------------------------------------------


def test_a_second_worker_does_not_take_an_event_the_first_is_sending(web: WebIssuer) -> None:
    _post(web, ["S6401", "S6402"])
    with smtp_server("stall") as stalled:
        import threading

        first = threading.Thread(
            target=deliver_pending, args=(web.rt, [_subscriber(_mailer(stalled))])
        )
        first.start()
        try:
            while stalled.data_started == 0:  # the first worker is in the middle of a mail
                first.join(0.05)
            with smtp_server("accept") as other:
                second = deliver_pending(web.rt, [_subscriber(_mailer(other))])
                assert second.claimed == 0
                assert other.connections == 0
        finally:
            stalled.release()
            first.join(30)
        assert stalled.recipients() == [_address("S6401"), _address("S6402")]
    counts = outbox_counts(web.rt)
    assert counts["pending"] == 0


# -- claim requests and resends ------------------------------------------------------------------


def test_claim_request_queues_the_same_event_for_known_and_unknown_addresses(
    web: WebIssuer, smtp: SmtpServer
) -> None:
    client = web.client()
    known = client.post("/claim/request", data={"email": get_learner(web.rt, "S1002").email})
    stranger = client.post("/claim/request", data={"email": "nobody@example.com"})
    assert known.status_code == stranger.status_code == 200
    assert known.get_data() == stranger.get_data()
    assert smtp.connections == 0
    queued = _events(web.rt, CLAIM_REQUESTED)
    assert len(queued) == 2  # one insert each: the request does the same work either way
    client.post("/claim/request", data={"email": "nobody@example.com"})
    assert len(_events(web.rt, CLAIM_REQUESTED)) == 2  # at most one per address and window
    deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert smtp.recipients() == [get_learner(web.rt, "S1002").email]
    # the addresses typed into the form are not kept once the requests are handled
    assert [e.payload for e in _events(web.rt, CLAIM_REQUESTED)] == [{}, {}]


def test_resend_is_audited_and_idempotent_per_key(web: WebIssuer, smtp: SmtpServer) -> None:
    assert queue_resend(web.rt, "S1001", actor="registrar", key="run-1") is True
    assert queue_resend(web.rt, "S1001", actor="registrar", key="run-1") is False
    deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert queue_resend(web.rt, "S1001", actor="registrar", key="run-1") is False
    deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert len(smtp.messages) == 1
    audited = list_audit(web.rt, action=RESEND_ACTION)
    assert [(e.actor, e.target_id, e.detail["key"]) for e in audited] == [
        ("registrar", "S1001", "run-1")
    ]
    assert queue_resend(web.rt, "S1001", actor="registrar", key="run-2") is True
    deliver_pending(web.rt, [_subscriber(_mailer(smtp))])
    assert len(smtp.messages) == 2
    # a re-sent message keeps its event's Message-ID, so clients can fold a duplicate
    ids = [str(m["Message-ID"]) for _, m in smtp.messages]
    assert all(i.startswith("<outbox-") and i.endswith("@issuer.test.example>") for i in ids)


def test_retry_of_a_keyed_request_reports_every_award_of_the_batch(
    web: WebIssuer, smtp: SmtpServer
) -> None:
    first = _post(web, ["S6501"], key="batch-1")
    # the same key with the events of the first attempt plus more: a replay is answered from the
    # stored response; with no stored response (the first attempt died) the batch continues
    with web.rt.transaction() as session:
        count = session.scalar(select(func.count()).select_from(OutboxEvent))
    assert count
    replay = web.client().post(
        "/progress",
        headers={**auth(web.tokens["issue"]), "Idempotency-Key": "batch-1"},
        json={"events": _esg("S6501")},
    )
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == first
