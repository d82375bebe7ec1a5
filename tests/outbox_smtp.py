"""A tiny real SMTP server for the outbox tests, with the ways mail servers really fail.

Modes: ``accept`` (every message is stored), ``refuse`` (``554`` to ``MAIL FROM``), ``hang``
(accepts the TCP connection and never says a word: the client waits for its timeout), and
``stall`` (after ``stall_after`` accepted messages, stores nothing and never answers the end of
``DATA`` until :meth:`SmtpServer.release`, so a test can kill a client in the middle of a send).
It binds port 0 on 127.0.0.1 and stops with the test.
"""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Literal

__all__ = ["Mode", "SmtpServer", "smtp_server"]

Mode = Literal["accept", "refuse", "hang", "stall"]


class SmtpServer(socketserver.ThreadingTCPServer):
    """Just enough RFC 5321 for ``smtplib``; counts connections and ``DATA`` starts."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: Mode = "accept", *, stall_after: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode: Mode = mode
        self.stall_after = stall_after
        self.connections = 0
        self.data_started = 0
        self.messages: list[tuple[list[str], Message]] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.closing = threading.Event()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server_address[1])

    def recipients(self) -> list[str]:
        """Every recipient of every stored message, sorted."""
        with self.lock:
            return sorted(r for recipients, _ in self.messages for r in recipients)

    def release(self) -> None:
        """Let stalled ``DATA`` exchanges finish (their messages are then stored)."""
        self.released.set()


class _Handler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
        if self.server.mode == "hang":
            self.server.closing.wait()
            return
        self._reply("220 test SMTP")
        recipients: list[str] = []
        while raw := self.rfile.readline():
            command = raw.decode("ascii").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO", "RSET", "NOOP"):
                self._reply("250 test")
            elif verb == "MAIL":
                self._reply("554 no mail today" if self.server.mode == "refuse" else "250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip("<> "))
                self._reply("250 OK")
            elif verb == "DATA":
                self._data(recipients)
                recipients = []
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")

    def _data(self, recipients: list[str]) -> None:
        self._reply("354 go ahead")
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        with self.server.lock:
            self.server.data_started += 1
            accepted = len(self.server.messages)
        if self.server.mode == "stall" and accepted >= self.server.stall_after:
            self.server.released.wait()
            if self.server.closing.is_set():
                return
        message = email.message_from_bytes(b"".join(lines))
        with self.server.lock:
            self.server.messages.append((list(recipients), message))
        self._reply("250 queued")


@contextmanager
def smtp_server(mode: Mode = "accept", *, stall_after: int = 0) -> Iterator[SmtpServer]:
    """A running server in ``mode``; shut down (hung and stalled handlers let go) at the end."""
    server = SmtpServer(mode, stall_after=stall_after)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
