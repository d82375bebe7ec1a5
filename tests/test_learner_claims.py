"""Claim links: signed, expiring tokens, and the mail that delivers them (outbox in development).

Negative tests are named for what they break: a tampered signature, another issuer's key, an
expired link, a signed payload of the wrong shape, production without SMTP.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from issuer_web_support import WebIssuer, web_issuer
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from issuer.delivery.claims import (
    CLAIM_LINK_LIFETIME,
    ClaimLinkExpiredError,
    InvalidClaimLinkError,
    make_claim_token,
    read_claim_token,
)
from issuer.delivery.mail import (
    MailNotConfiguredError,
    OutboxMailer,
    SmtpMailer,
    mailer_for,
)
from issuer.delivery.notify import deliver_learner_mail, queue_claim_request
from issuer.delivery.service import learners_with_email, send_claim_link
from issuer.outbox.events import CLAIM_REQUESTED
from issuer.services.catalogue import get_learner
from issuer.services.errors import NotFoundError
from issuer.settings import Settings

SECRET = "claim-test-secret"
AT = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


class _SignedAtAT(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(AT.timestamp())


def _signed(payload: object, salt: str = "sijil.learner-claim.v2") -> str:
    """``payload`` signed with the issuer's key in the claim-link format, at ``AT``."""
    token = URLSafeTimedSerializer(SECRET, salt=salt, signer=_SignedAtAT).dumps(payload)
    assert isinstance(token, str)
    return token


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def _read(path: Path) -> Message:
    return email.message_from_bytes(path.read_bytes())


def test_valid_token_names_the_learner_until_it_expires() -> None:
    token = make_claim_token(SECRET, "S1001", at=AT)
    claim = read_claim_token(SECRET, token, at=AT + timedelta(days=29))
    assert claim.learner == "S1001"
    assert claim.expires_at == AT + CLAIM_LINK_LIFETIME


def test_expired_token_is_claim_link_expired() -> None:
    token = make_claim_token(SECRET, "S1001", at=AT, lifetime=timedelta(hours=1))
    with pytest.raises(ClaimLinkExpiredError) as caught:
        read_claim_token(SECRET, token, at=AT + timedelta(hours=1))
    assert caught.value.code == "CLAIM_LINK_EXPIRED"
    assert caught.value.http_status == 410


@pytest.mark.parametrize("position", [0, 10, -1])
def test_tampered_token_is_invalid_claim_link(position: int) -> None:
    token = make_claim_token(SECRET, "S1001", at=AT)
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    with pytest.raises(InvalidClaimLinkError) as caught:
        read_claim_token(SECRET, "".join(chars), at=AT)
    assert caught.value.code == "INVALID_CLAIM_LINK"


def test_token_of_another_key_is_invalid_claim_link() -> None:
    token = make_claim_token("another-issuer-secret", "S1001", at=AT)
    with pytest.raises(InvalidClaimLinkError):
        read_claim_token(SECRET, token, at=AT)


def test_other_learner_swapped_into_payload_is_invalid_claim_link() -> None:
    token = make_claim_token(SECRET, "S1001", at=AT)
    other = make_claim_token(SECRET, "S1002", at=AT)
    payload, stamp, _sig = token.split(".")
    _other_payload, _other_stamp, other_sig = other.split(".")
    with pytest.raises(InvalidClaimLinkError):
        read_claim_token(SECRET, f"{payload}.{stamp}.{other_sig}", at=AT)


def test_signed_payload_of_wrong_shape_is_invalid_claim_link() -> None:
    for wrong_shape in (["S1001"], {"l": 1001, "e": 2**31}, {"l": "S1001", "e": True}):
        with pytest.raises(InvalidClaimLinkError):
            read_claim_token(SECRET, _signed(wrong_shape), at=AT)
    untimed = URLSafeSerializer(SECRET, salt="sijil.learner-claim.v2").dumps({"l": "S1001"})
    assert isinstance(untimed, str)
    with pytest.raises(InvalidClaimLinkError):
        read_claim_token(SECRET, untimed, at=AT)
    session_cookie_like = _signed({"l": "S1001", "e": 2**40}, salt="cookie-session")
    with pytest.raises(InvalidClaimLinkError):
        read_claim_token(SECRET, session_cookie_like, at=AT)


def test_send_claim_link_writes_a_bilingual_mail_whose_link_opens(
    demo: WebIssuer, tmp_path: Path
) -> None:
    mailer = OutboxMailer(tmp_path / "outbox", sender="registrar@uni.example")
    send_claim_link(demo.rt, "S1001", mailer=mailer)
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = _read(files[0])
    learner = get_learner(demo.rt, "S1001")
    assert message["To"] == learner.email
    assert message["From"] == "registrar@uni.example"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode("utf-8")
    assert "Kredensial digital anda" in text
    link = next(line for line in text.splitlines() if "/claim/" in line)
    token = link.rsplit("/claim/", 1)[1]
    settings = demo.rt.settings
    assert link.startswith(f"{settings.base_url}/claim/")
    assert read_claim_token(settings.secret_key, token, at=demo.rt.now()).learner == "S1001"


def test_send_claim_link_to_unknown_learner_is_not_found(demo: WebIssuer, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        send_claim_link(demo.rt, "NOBODY", mailer=OutboxMailer(tmp_path))
    assert list(tmp_path.glob("*.eml")) == []


def test_claim_request_is_case_insensitive_and_mails_nobody_for_unknown(
    demo: WebIssuer, tmp_path: Path
) -> None:
    address = get_learner(demo.rt, "S1002").email.upper()
    assert learners_with_email(demo.rt, f"  {address} ") == ["S1002"]
    assert learners_with_email(demo.rt, "stranger@example.com") == []
    assert learners_with_email(demo.rt, "not an address") == []
    for email_address in (f"  {address} ", "stranger@example.com", "not an address"):
        queue_claim_request(demo.rt, email_address)
    report = deliver_learner_mail(
        demo.rt, mailer=lambda: OutboxMailer(tmp_path), kinds={CLAIM_REQUESTED}
    )
    assert report.sent == ("S1002",)
    assert len(list(tmp_path.glob("*.eml"))) == 1


def _settings(tmp_path: Path, env: str, **extra: str) -> Settings:
    return Settings.from_env(
        {
            **extra,
            "SIJIL_ENV": env,
            "SIJIL_INSTANCE_DIR": str(tmp_path),
            "SIJIL_BASE_URL": "https://issuer.example",
            "SIJIL_KEY_PASSPHRASE": "a-long-production-passphrase",
            "SIJIL_SECRET_KEY": "a-long-production-secret-key",
            "SIJIL_VERIFIER_URL": "https://verify.example",
        }
    )


def test_mailer_for_development_outbox_production_smtp(tmp_path: Path) -> None:
    dev = mailer_for(_settings(tmp_path, "development"))
    assert isinstance(dev, OutboxMailer)
    assert dev.folder == tmp_path.resolve() / "outbox"
    smtp = mailer_for(
        _settings(
            tmp_path,
            "production",
            SIJIL_SMTP_HOST="smtp.example",
            SIJIL_SMTP_PORT="2525",
            SIJIL_SMTP_STARTTLS="0",
        )
    )
    assert smtp == SmtpMailer(host="smtp.example", port=2525, starttls=False)


def test_production_without_smtp_is_mail_not_configured(tmp_path: Path) -> None:
    with pytest.raises(MailNotConfiguredError) as caught:
        mailer_for(_settings(tmp_path, "production"))
    assert caught.value.code == "MAIL_NOT_CONFIGURED"
