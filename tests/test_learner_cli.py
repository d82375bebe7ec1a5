"""``sijil-issuer claim-link`` and new-award notification, through the real CLI and services."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from issuer_web_support import WebIssuer, web_issuer

from issuer.cli import cli
from issuer.delivery.claims import read_claim_token
from issuer.delivery.mail import OutboxMailer
from issuer.delivery.notify import deliver_learner_mail
from issuer.services.awards import list_awards
from issuer.services.catalogue import get_learner


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
        "SIJIL_BASE_URL": "https://issuer.cli.example",
        "SIJIL_KEY_PASSPHRASE": "cli-test-passphrase",
        "SIJIL_SECRET_KEY": "cli-test-secret-key",
        "SIJIL_ENV": "development",
        "SIJIL_SMTP_HOST": "",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_claim_link_prints_a_working_link_and_send_writes_the_outbox(
    env: dict[str, str], tmp_path: Path
) -> None:
    _run(env, "demo")
    link = _run(env, "claim-link", "S1001", "--days", "2").stdout.strip()
    assert link.startswith("https://issuer.cli.example/claim/")
    claim = read_claim_token("cli-test-secret-key", link.rsplit("/", 1)[1], at=datetime.now(UTC))
    assert claim.learner == "S1001"
    out = _run(env, "claim-link", "S1002", "--send").stdout
    assert "claim link sent to S1002" in out
    files = list((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert len(files) == 1
    assert email.message_from_bytes(files[0].read_bytes())["To"].startswith("tan.weiming@")


def test_claim_link_for_unknown_learner_is_not_found(env: dict[str, str]) -> None:
    _run(env, "demo")
    result = _run(env, "claim-link", "NOBODY", code=1)
    assert "NOT_FOUND" in result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def test_issuing_queues_one_mail_per_learner_and_delivery_sends_it_once(
    demo: WebIssuer, tmp_path: Path
) -> None:
    awards = list_awards(demo.rt, limit=None)
    report = deliver_learner_mail(demo.rt, mailer=lambda: OutboxMailer(tmp_path))
    assert list(report.sent) == sorted({a.learner for a in awards})
    recipients = sorted(
        email.message_from_bytes(p.read_bytes())["To"] for p in tmp_path.glob("*.eml")
    )
    assert recipients == sorted(get_learner(demo.rt, learner).email for learner in report.sent)
    again = deliver_learner_mail(demo.rt, mailer=lambda: OutboxMailer(tmp_path))
    assert again.sent == ()
    assert len(list(tmp_path.glob("*.eml"))) == len(recipients)
