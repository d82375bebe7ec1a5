"""Learners hear what happens to their credentials: revoked, suspended, reinstated, re-issued.

Status changes commit a ``status.changed`` outbox event with the change; the learner-mail
subscriber turns it into one bilingual mail with the reason, what comes next and a fresh claim
link. Mail goes to a real outbox folder, delivered as the worker would.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from issuer_web_support import WebIssuer, web_issuer

from issuer.delivery.mail import OutboxMailer
from issuer.delivery.notify import deliver_learner_mail
from issuer.services.awards import AwardView, list_awards
from issuer.services.catalogue import get_learner
from issuer.services.reissue import reissue
from issuer.services.status import change_status


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path / "instance", demo=True, status_lists=True) as issuer:
        yield issuer


def _deliver(web: WebIssuer, outbox: Path) -> list[Message]:
    before = set(outbox.glob("*.eml"))
    deliver_learner_mail(web.rt, mailer=lambda: OutboxMailer(outbox))
    return [email.message_from_bytes(p.read_bytes()) for p in set(outbox.glob("*.eml")) - before]


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def _award(web: WebIssuer, learner: str, award_type: str) -> AwardView:
    return next(
        a
        for a in list_awards(web.rt, learner=learner, limit=None)
        if a.award_type == award_type and a.status == "active"
    )


def test_revocation_mails_the_learner_the_reason_and_what_comes_next(
    web: WebIssuer, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    _deliver(web, outbox)  # the demo's own claim-link mails, if any
    coa = _award(web, "S1001", "COA")
    change_status(web.rt, [coa.id], "revoke", reason="Grade recorded in error", actor="test")
    (mail,) = _deliver(web, outbox)
    assert mail["To"] == get_learner(web.rt, "S1001").email
    assert "revoked" in mail["Subject"]
    assert "dibatalkan" in mail["Subject"]
    body = _body(mail)
    assert "Grade recorded in error" in body
    assert "re-issue" in body
    assert "/claim/" in body
    assert _deliver(web, outbox) == []  # told once


def test_superseded_statement_is_told_as_reissued(web: WebIssuer, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    _deliver(web, outbox)
    mms = _award(web, "S1001", "MMS")
    first_part = mms.credential()["credentialSubject"]["verifiableCredential"][0]["id"]
    coa = next(
        a for a in list_awards(web.rt, learner="S1001", limit=None) if a.credential_id == first_part
    )
    change_status(web.rt, [coa.id], "revoke", reason="Marked twice", actor="test")
    reissue(web.rt, coa.id, reason="corrected", actor="test")
    reissue(web.rt, mms.id, reason="corrected", actor="test")
    mails = _deliver(web, outbox)
    subjects = sorted(m["Subject"] for m in mails)
    assert any("re-issued" in s for s in subjects), subjects
    assert any("revoked" in s for s in subjects), subjects
