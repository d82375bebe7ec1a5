"""Learners are mailed their claim link when awards are issued, by every shell that issues.

Real parts only: the Flask app over a seeded SQLite issuer, the ``sijil-issuer`` CLI through
Click's runner, a tiny real SMTP server on a free port (it can be told to refuse mail), and the
development outbox folder. Requests only queue the mail (outbox events committed with the
awards); the outbox worker sends it with the app's configured mailer. One mail per learner however
many awards; a mail failure never loses an award and is retried.
"""

from __future__ import annotations

import email
import os
import socketserver
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.cli import cli
from issuer.delivery.mail import Mailer, OutboxMailer, SmtpMailer
from issuer.delivery.notify import (
    NOTIFY_ACTION,
    LearnerMail,
    deliver_learner_mail,
    resend_pending,
)
from issuer.devserver import prepare
from issuer.outbox.events import LEARNER_NOTIFY
from issuer.outbox.models import OutboxEvent
from issuer.outbox.worker import DeliveryReport, deliver_pending
from issuer.services.audit import list_audit
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app
from issuer.web.learner import LearnerConfig, configure_learner, configured_mailer

VERIFIER = "https://verify.test.example"


class SmtpServer(socketserver.ThreadingTCPServer):
    """Just enough RFC 5321 to accept (or, with ``refuse``, reject with 554) messages."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, refuse: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.refuse = refuse
        self.connections = 0
        self.messages: list[tuple[list[str], Message]] = []

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server_address[1])

    def recipients(self) -> list[str]:
        """Every recipient of every accepted message, sorted."""
        return sorted(r for recipients, _ in self.messages for r in recipients)


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.server.connections += 1
        self._reply("220 test SMTP")
        recipients: list[str] = []
        while raw := self.rfile.readline():
            command = raw.decode("ascii").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO", "RSET", "NOOP"):
                self._reply("250 test")
            elif verb == "MAIL":
                self._reply("554 no mail today" if self.server.refuse else "250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip("<> "))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go ahead")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.messages.append((recipients, email.message_from_bytes(b"".join(lines))))
                recipients = []
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


def _serve(server: SmtpServer) -> Iterator[SmtpServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from _serve(SmtpServer())


@pytest.fixture
def refusing_smtp() -> Iterator[SmtpServer]:
    yield from _serve(SmtpServer(refuse=True))


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path / "instance", demo=True) as issuer:
        # the demo learners' own mail (queued when the demo was seeded) goes to a folder first
        deliver_learner_mail(issuer.rt, mailer=lambda: OutboxMailer(tmp_path / "seed"))
        yield issuer


def _work(web: WebIssuer) -> DeliveryReport:
    """One outbox worker pass with the app's configured mailer."""

    def mailer() -> Mailer:
        return configured_mailer(web.app)

    return deliver_pending(web.rt, [LearnerMail(mailer)])


def _use_smtp(web: WebIssuer, server: SmtpServer) -> None:
    mailer = SmtpMailer("127.0.0.1", server.port, starttls=False, sender="registrar@uni.example")
    configure_learner(web.app, LearnerConfig(verifier_url=VERIFIER, mailer=mailer))


def _esg(learner: str, name: str) -> list[dict[str, Any]]:
    """Events that earn ``learner`` (new to the issuer) a COC and a COA for ESG201."""
    who = {"learnerEmail": f"{learner.lower()}@student.example.edu.my", "learnerName": name}
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


def _post_progress(web: WebIssuer, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = web.client().post(
        "/progress", headers=auth(web.tokens["issue"]), json={"events": events}
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _link(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return next(w for w in payload.decode("utf-8").split() if "/claim/" in w)


def test_web_progress_mails_each_new_learner_once_over_smtp(
    web: WebIssuer, smtp: SmtpServer
) -> None:
    _use_smtp(web, smtp)
    outcome = _post_progress(web, _esg("S3001", "Lim Mei Ling 林美玲") + _esg("S3002", "Arun"))
    issued = sorted((a["learner"], a["awardType"]) for a in outcome["issued"])
    assert issued == [("S3001", "COA"), ("S3001", "COC"), ("S3002", "COA"), ("S3002", "COC")]
    assert smtp.connections == 0  # the request queued the mail; it sent nothing
    _work(web)
    # four awards, two learners: two mails
    assert smtp.recipients() == [
        "s3001@student.example.edu.my",
        "s3002@student.example.edu.my",
    ]
    link = _link(smtp.messages[0][1])
    page = web.client().get(link.removeprefix(web.rt.settings.base_url))
    assert page.status_code == 200
    assert "Sustainability Reporting Essentials" in page.get_data(as_text=True)
    mailed = {e.target_id for e in list_audit(web.rt, action=NOTIFY_ACTION)}
    assert {m for m in mailed if m.startswith("S3")} == {"S3001", "S3002"}


def test_web_csv_import_mails_each_learner_once(web: WebIssuer, smtp: SmtpServer) -> None:
    _use_smtp(web, smtp)
    csv_text = _bulk_csv(Path(web.rt.settings.instance_dir) / "upload.csv", 4).read_bytes()
    response = web.client().post(
        "/progress/import",
        headers={**auth(web.tokens["issue"]), "Content-Type": "text/csv"},
        data=csv_text,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["issued"] == {"COC": 4, "COA": 4}
    assert smtp.connections == 0
    _work(web)
    assert smtp.recipients() == [f"s5{n:03d}@student.example.edu.my" for n in range(4)]
    assert smtp.connections == 1


def test_web_progress_replayed_events_mail_nobody_again(web: WebIssuer, smtp: SmtpServer) -> None:
    _use_smtp(web, smtp)
    _post_progress(web, _esg("S3003", "Nur Aisyah"))
    _work(web)
    assert len(smtp.messages) == 1
    again = _post_progress(web, _esg("S3003", "Nur Aisyah"))
    assert again["issued"] == []
    assert _work(web).claimed == 0
    assert len(smtp.messages) == 1


def test_refusing_smtp_server_loses_no_award_and_the_mail_is_retried(
    web: WebIssuer, refusing_smtp: SmtpServer, smtp: SmtpServer
) -> None:
    _use_smtp(web, refusing_smtp)
    outcome = _post_progress(web, _esg("S3004", "Kumar"))
    assert len(outcome["issued"]) == 2
    report = _work(web)
    assert [(e.payload["learner"], x.code) for e, x in report.failures] == [
        ("S3004", "MAIL_DELIVERY_FAILED")
    ]
    assert refusing_smtp.messages == []
    held = list_awards(web.rt, learner="S3004", limit=None)
    assert sorted(a.award_type for a in held) == ["COA", "COC"]
    assert all(a.status == "active" for a in held)
    with web.rt.reading() as session:
        (event,) = [
            e
            for e in session.query(OutboxEvent).filter(OutboxEvent.kind == LEARNER_NOTIFY)
            if e.payload["learner"] == "S3004"
        ]
        assert event.done_at is None
        assert event.attempts == 1
    # the registrar re-arms what was not delivered (claim-link --all-pending); it goes out once
    _use_smtp(web, smtp)
    assert resend_pending(web.rt, actor="test") == ["S3004"]
    _work(web)
    assert _work(web).claimed == 0
    assert smtp.recipients() == ["s3004@student.example.edu.my"]


def test_notify_switched_off_sends_nothing(tmp_path: Path, smtp: SmtpServer) -> None:
    settings = Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            "SIJIL_NOTIFY_LEARNERS": "0",
        }
    )
    assert settings.notify_learners is False
    rt = open_runtime(settings)
    try:
        seed_demo(rt)
        token = create_token(rt, ["issue"], label="t", actor="test")[1]
        web = WebIssuer(rt=rt, app=create_app(runtime=rt), tokens={"issue": token})
        _use_smtp(web, smtp)
        outcome = _post_progress(web, _esg("S3005", "Wong"))
        assert len(outcome["issued"]) == 2
        _work(web)
        with rt.reading() as session:
            kinds = {e.kind for e in session.query(OutboxEvent)}
        assert LEARNER_NOTIFY not in kinds  # nothing queued at all
    finally:
        rt.close()
    assert smtp.messages == []


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
        "SIJIL_BASE_URL": "https://issuer.cli.example",
        "SIJIL_KEY_PASSPHRASE": "cli-test-passphrase",
        "SIJIL_SECRET_KEY": "cli-test-secret-key",
        "SIJIL_ENV": "development",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _outbox(env: dict[str, str]) -> list[Message]:
    folder = Path(env["SIJIL_INSTANCE_DIR"]) / "outbox"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def _bulk_csv(path: Path, learners: int) -> Path:
    """Every learner completes ESG201 (COC) and passes it (COA): four rows each."""
    rows = ["learner_id,micro_credential,event,item,score,learner_email,learner_name"]
    for n in range(learners):
        who = f"S5{n:03d},ESG201"
        contact = f"s5{n:03d}@student.example.edu.my,Learner {n}"
        rows += [
            f"{who},material_completed,ESG201-M1,,{contact}",
            f"{who},material_completed,ESG201-M2,,{contact}",
            f"{who},assessment_result,ESG201-QZ,80,{contact}",
            f"{who},assessment_result,ESG201-PJ,75,{contact}",
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_demo_notify_mails_the_demo_learners_to_the_dev_outbox(env: dict[str, str]) -> None:
    _run(env, "init")
    env["SIJIL_SMTP_HOST"] = "smtp.invalid"  # demo addresses are made up: never SMTP
    out = _run(env, "demo", "--notify").stdout
    assert "mailed claim links to S1001, S1002, S1003" in out
    recipients = sorted(str(m["To"]) for m in _outbox(env))
    assert len(recipients) == 3
    assert "siti.nurhaliza@student.example.edu.my" in recipients
    _run(env, "demo", "--notify")
    assert len(_outbox(env)) == 3  # nothing new issued, nobody mailed again


def test_devserver_prepare_writes_the_demo_learners_mail_to_the_outbox(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # prepare() exports its settings to os.environ (for the verifier): keep them in this test.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    settings, rt, summary, _token, _tls = prepare(env, port=5999, tls=False)
    try:
        assert summary.newly_issued == 12
        recipients = sorted(str(m["To"]) for m in _outbox(env))
        assert "siti.nurhaliza@student.example.edu.my" in recipients
        assert len(recipients) == 3
        link = _link(next(m for m in _outbox(env) if "siti" in str(m["To"])))
        assert link.startswith(f"{settings.base_url}/claim/")
    finally:
        rt.close()


def test_cli_bulk_import_mails_one_per_learner_to_the_outbox(
    env: dict[str, str], tmp_path: Path
) -> None:
    _run(env, "demo")
    csv_file = _bulk_csv(tmp_path / "bulk.csv", 30)
    result = _run(env, "import-progress", str(csv_file))
    assert "120 rows: 120 recorded" in result.stdout
    assert "issued 30 COA, 30 COC" in result.stdout
    assert "mailed 30 learner(s)" in result.stdout
    recipients = sorted(str(m["To"]) for m in _outbox(env))
    assert recipients == sorted(f"s5{n:03d}@student.example.edu.my" for n in range(30))
    _run(env, "import-progress", str(csv_file))
    assert len(_outbox(env)) == 30


def test_cli_import_no_notify_sends_nothing(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "demo")
    result = _run(env, "import-progress", "--no-notify", str(_bulk_csv(tmp_path / "b.csv", 3)))
    assert "issued 3 COA, 3 COC" in result.stdout
    assert _outbox(env) == []


def test_cli_import_mails_over_one_smtp_connection(
    env: dict[str, str], tmp_path: Path, smtp: SmtpServer
) -> None:
    _run(env, "demo")
    env.update(
        SIJIL_SMTP_HOST="127.0.0.1",
        SIJIL_SMTP_PORT=str(smtp.port),
        SIJIL_SMTP_STARTTLS="0",
        SIJIL_MAIL_FROM="registrar@uni.example",
    )
    _run(env, "import-progress", str(_bulk_csv(tmp_path / "b.csv", 5)))
    assert smtp.recipients() == [f"s5{n:03d}@student.example.edu.my" for n in range(5)]
    assert all(str(m["From"]) == "registrar@uni.example" for _, m in smtp.messages)
    assert smtp.connections == 1


def test_cli_import_with_refusing_smtp_keeps_the_awards_and_queues_the_mail(
    env: dict[str, str], tmp_path: Path, refusing_smtp: SmtpServer
) -> None:
    _run(env, "demo")
    env.update(
        SIJIL_SMTP_HOST="127.0.0.1",
        SIJIL_SMTP_PORT=str(refusing_smtp.port),
        SIJIL_SMTP_STARTTLS="0",
    )
    result = _run(env, "import-progress", str(_bulk_csv(tmp_path / "b.csv", 2)))
    assert "issued 2 COA, 2 COC" in result.stdout
    assert "mail to S5000 failed: MAIL_DELIVERY_FAILED" in result.stderr
    assert "claim-link mail(s) queued" in result.stderr  # the first refusal stops trying
    rt = open_runtime(Settings.from_env(env))
    try:
        assert len(list_awards(rt, learner="S5000", limit=None)) == 2
        with rt.reading() as session:
            queued = sorted(
                e.payload["learner"]
                for e in session.query(OutboxEvent).filter(
                    OutboxEvent.kind == LEARNER_NOTIFY, OutboxEvent.done_at.is_(None)
                )
            )
        assert [q for q in queued if q.startswith("S5")] == ["S5000", "S5001"]
    finally:
        rt.close()
