"""Killed processes lose no mail and send none twice; a hung mail server never holds an import.

Each test kills a real process with SIGKILL at the moment named in its title (a ``POST /progress``
after some awards committed; a worker in the middle of a mail), then shows what the next attempt
does. The mail servers are real local SMTP servers (:mod:`outbox_smtp`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from issuer_web_support import BASE_URL, WebIssuer, auth, web_issuer
from outbox_smtp import SmtpServer, smtp_server
from sqlalchemy import func, select

from issuer.cli import cli
from issuer.db.models import Award, Learner
from issuer.delivery.mail import Mailer, OutboxMailer, SmtpMailer
from issuer.delivery.notify import NOTIFY_ACTION, LearnerMail, deliver_learner_mail, mail_worker
from issuer.outbox.worker import deliver_pending, outbox_counts
from issuer.services.audit import list_audit
from issuer.services.runtime import Runtime

#: Settings of the child processes: the same instance as the test's own runtime.
_SETTINGS = {
    "SIJIL_ENV": "development",
    "SIJIL_BASE_URL": BASE_URL,
    "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
    "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
    "SIJIL_RATE_LIMITS_ENABLED": "0",
}

_POST_PROGRESS = """
import json, os
from issuer.services.bootstrap import open_runtime
from issuer.settings import Settings
from issuer.web import create_app
rt = open_runtime(Settings.from_env(os.environ))
headers = {"Authorization": "Bearer " + os.environ["TEST_TOKEN"], "Idempotency-Key": "crash-1"}
events = json.loads(os.environ["TEST_EVENTS"])
create_app(runtime=rt).test_client().post("/progress", headers=headers, json={"events": events})
print("finished", flush=True)
"""

_WORKER = """
import os
from issuer.delivery.mail import SmtpMailer
from issuer.delivery.notify import LearnerMail
from issuer.outbox.worker import deliver_pending
from issuer.services.bootstrap import open_runtime
from issuer.settings import Settings
rt = open_runtime(Settings.from_env(os.environ))
mailer = SmtpMailer("127.0.0.1", int(os.environ["TEST_SMTP_PORT"]), starttls=False, timeout=600)
deliver_pending(rt, [LearnerMail(lambda: mailer)])
print("finished", flush=True)
"""


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path / "instance", demo=True) as issuer:
        deliver_learner_mail(issuer.rt, mailer=lambda: OutboxMailer(tmp_path / "seed"))
        yield issuer


def _esg(learner: str) -> list[dict[str, Any]]:
    who = {"learnerEmail": f"{learner.lower()}@student.example.edu.my", "learnerName": learner}
    rows: list[dict[str, Any]] = [
        {"learner": learner, "type": "materialCompleted", "item": f"ESG201-M{i}"} for i in (1, 2)
    ]
    rows += [
        {"learner": learner, "type": "assessmentResult", "item": f"ESG201-{i}", "score": 90}
        for i in ("QZ", "PJ")
    ]
    return [{**row, "microCredential": "ESG201", **who} for row in rows]


def _address(learner: str) -> str:
    return f"{learner.lower()}@student.example.edu.my"


def _child(web: WebIssuer, script: str, **extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **_SETTINGS,
        "SIJIL_INSTANCE_DIR": str(web.rt.settings.instance_dir),
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )


def _awards_of(rt: Runtime, prefix: str) -> int:
    with rt.reading() as session:
        count = session.scalar(
            select(func.count(Award.id))
            .join(Learner, Learner.id == Award.learner_id)
            .where(Learner.external_id.like(f"{prefix}%"))
        )
    return int(count or 0)


def _kill_when(child: subprocess.Popen[str], ready: Any) -> str:
    """SIGKILL ``child`` as soon as ``ready()`` holds (bounded wait); returns its output."""
    for _ in range(6000):
        if ready() or child.poll() is not None:
            break
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=60)
    return out


def _later(rt: Runtime, delta: timedelta) -> None:
    at = rt.now() + delta
    rt.clock = lambda: at


def test_post_progress_killed_after_some_awards_retry_reports_all_and_mails_each_once(
    web: WebIssuer, tmp_path: Path
) -> None:
    learners = [f"S71{n:02d}" for n in range(10)]
    events = [event for learner in learners for event in _esg(learner)]
    child = _child(
        web, _POST_PROGRESS, TEST_TOKEN=web.tokens["issue"], TEST_EVENTS=json.dumps(events)
    )
    out = _kill_when(child, lambda: _awards_of(web.rt, "S71") >= 3)
    assert "finished" not in out
    committed = _awards_of(web.rt, "S71")
    assert 3 <= committed < 20  # killed in the middle of the batch, after some commits
    # the retry with the same key runs the rest of the batch and reports all of it
    response = web.client().post(
        "/progress",
        headers={**auth(web.tokens["issue"]), "Idempotency-Key": "crash-1"},
        json={"events": events},
    )
    assert response.status_code == 200, response.get_json()
    issued = response.get_json()["issued"]
    assert len(issued) == 20
    assert len({a["id"] for a in issued}) == 20
    assert sorted({a["learner"] for a in issued}) == learners
    assert _awards_of(web.rt, "S71") == 20
    with smtp_server("accept") as smtp:
        mailer = SmtpMailer("127.0.0.1", smtp.port, starttls=False)
        report = deliver_learner_mail(web.rt, mailer=lambda: mailer)
        assert report.queued == 0
        # every learner once, whether their awards came from the killed attempt or the retry
        assert smtp.recipients() == sorted(_address(learner) for learner in learners)


def test_worker_killed_in_the_middle_of_a_mail_loses_none_and_resends_none_it_recorded(
    web: WebIssuer,
) -> None:
    learners = ["S7201", "S7202", "S7203"]
    response = web.client().post(
        "/progress",
        headers=auth(web.tokens["issue"]),
        json={"events": [e for learner in learners for e in _esg(learner)]},
    )
    assert response.status_code == 200
    with smtp_server("stall", stall_after=1) as stalled:
        child = _child(web, _WORKER, TEST_SMTP_PORT=str(stalled.port))
        out = _kill_when(child, lambda: stalled.data_started >= 2)
        assert "finished" not in out
        first = stalled.recipients()
    assert first == [_address("S7201")]  # accepted, and recorded before the next send began
    assert [
        e.target_id for e in list_audit(web.rt, action=NOTIFY_ACTION) if e.target_id in learners
    ] == ["S7201"]
    with smtp_server("accept") as working:
        mail = LearnerMail(lambda: SmtpMailer("127.0.0.1", working.port, starttls=False))
        assert deliver_pending(web.rt, [mail]).claimed == 0  # the dead worker's lease still holds
        _later(web.rt, timedelta(minutes=10))  # the lease runs out
        deliver_pending(web.rt, [mail])
        assert working.recipients() == [_address("S7202"), _address("S7203")]
    assert outbox_counts(web.rt)["pending"] == 0


def test_background_worker_delivers_and_stops_cleanly(web: WebIssuer, smtp_dir: Path) -> None:
    def mailer() -> Mailer:
        return OutboxMailer(smtp_dir)

    worker = mail_worker(web.rt, mailer=mailer, interval=0.05)
    with worker:
        response = web.client().post(
            "/progress", headers=auth(web.tokens["issue"]), json={"events": _esg("S7301")}
        )
        assert response.status_code == 200
        worker.wake()
        for _ in range(3000):
            if list(smtp_dir.glob("*.eml")):
                break
            time.sleep(0.01)
        assert worker.start() is worker  # a second start starts nothing new
    assert worker._thread is not None
    assert not worker._thread.is_alive()
    assert len(list(smtp_dir.glob("*.eml"))) == 1


@pytest.fixture
def smtp_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


# -- the CLI: an import never waits on a hung mail server ------------------------------------------


def _run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _csv(path: Path, learners: int) -> Path:
    rows = ["learner_id,micro_credential,event,item,score,learner_email,learner_name"]
    for n in range(learners):
        who, contact = f"S8{n:03d},ESG201", f"s8{n:03d}@student.example.edu.my,Learner {n}"
        rows += [
            f"{who},material_completed,ESG201-M1,,{contact}",
            f"{who},material_completed,ESG201-M2,,{contact}",
            f"{who},assessment_result,ESG201-QZ,80,{contact}",
            f"{who},assessment_result,ESG201-PJ,75,{contact}",
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _smtp_env(env: dict[str, str], server: SmtpServer) -> dict[str, str]:
    return {
        **env,
        "SIJIL_SMTP_HOST": "127.0.0.1",
        "SIJIL_SMTP_PORT": str(server.port),
        "SIJIL_SMTP_STARTTLS": "0",
    }


def test_import_with_a_hung_mail_server_returns_and_each_learner_gets_one_mail_later(
    tmp_path: Path,
) -> None:
    env = {**_SETTINGS, "SIJIL_INSTANCE_DIR": str(tmp_path / "instance")}
    _run(env, "demo")
    csv_file = _csv(tmp_path / "progress.csv", 4)
    with smtp_server("hang") as hung:
        result = _run(_smtp_env(env, hung), "import-progress", "--mail-wait", "0.5", str(csv_file))
        assert "issued 4 COA, 4 COC" in result.stdout
        assert "queued" in result.stderr
        assert hung.connections == 1  # one try, then the import left the mail to the worker
    with smtp_server("accept") as working:
        recovered = _smtp_env(env, working)
        result = _run(recovered, "claim-link", "--all-pending")
        _run(recovered, "claim-link", "--all-pending")  # a second run mails nobody again
        _run(recovered, "outbox", "work", "--once")
        ours = [r for r in working.recipients() if r.startswith("s8")]
        assert ours == [f"s8{n:03d}@student.example.edu.my" for n in range(4)]
        assert len(working.recipients()) == len(set(working.recipients()))
    assert "pending 0" in _run(env, "outbox", "status").stdout


def test_claim_link_send_is_audited_and_idempotent(tmp_path: Path) -> None:
    env = {**_SETTINGS, "SIJIL_INSTANCE_DIR": str(tmp_path / "instance")}
    _run(env, "demo", "--notify")
    with smtp_server("accept") as working:
        smtp = _smtp_env(env, working)
        assert "claim link sent to S1001" in _run(smtp, "claim-link", "S1001", "--send").stdout
        again = _run(smtp, "claim-link", "S1001", "--send").stdout
        assert "already sent or queued" in again
        assert len(working.messages) == 1
        _run(smtp, "claim-link", "S1001", "--send", "--key", "second-round")
        assert len(working.messages) == 2
    from issuer.services.bootstrap import open_runtime
    from issuer.settings import Settings

    rt = open_runtime(Settings.from_env(env))
    try:
        resends = list_audit(rt, action="learner.resend")
        assert sorted(e.detail["key"] for e in resends)[-1] == "second-round"
        assert [e.actor for e in resends] == ["cli", "cli"]
    finally:
        rt.close()
