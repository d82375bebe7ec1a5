"""Claim mail through a real SMTP conversation with a tiny local server the test starts.

The server speaks just enough RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, QUIT) to accept one message
and hand it to the test; it binds port 0 and stops with the test.
"""

from __future__ import annotations

import email
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from issuer_web_support import WebIssuer, web_issuer

from issuer.delivery.mail import MailDeliveryError, SmtpMailer
from issuer.delivery.service import send_claim_link
from issuer.services.catalogue import get_learner


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[tuple[str, list[str], bytes]] = []


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self._reply("220 test SMTP")
        sender, recipients = "", []
        while raw := self.rfile.readline():
            command = raw.decode("ascii").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 test")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip("<> ")
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip("<> "))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go ahead")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.messages.append((sender, recipients, b"".join(lines)))
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


@pytest.fixture
def smtp_server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def test_claim_link_is_delivered_over_smtp(demo: WebIssuer, smtp_server: _Server) -> None:
    port = smtp_server.server_address[1]
    mailer = SmtpMailer("127.0.0.1", port, starttls=False, sender="registrar@uni.example")
    send_claim_link(demo.rt, "S1003", mailer=mailer)
    assert len(smtp_server.messages) == 1
    sender, recipients, data = smtp_server.messages[0]
    assert sender == "registrar@uni.example"
    assert recipients == [get_learner(demo.rt, "S1003").email]
    message = email.message_from_bytes(data)
    assert message["Subject"] == "Your credentials / Kredensial anda"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert f"{demo.rt.settings.base_url}/claim/" in body.decode("utf-8")


def test_unreachable_smtp_is_mail_delivery_failed(demo: WebIssuer, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    mailer = SmtpMailer("127.0.0.1", closed_port, starttls=False, timeout=5)
    with pytest.raises(MailDeliveryError) as caught:
        send_claim_link(demo.rt, "S1003", mailer=mailer)
    assert caught.value.code == "MAIL_DELIVERY_FAILED"
