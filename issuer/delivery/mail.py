"""Sending mail: SMTP in production, a local outbox folder in development.

:class:`Mailer` is the one seam; :class:`SmtpMailer` talks to ``SIJIL_SMTP_HOST`` (STARTTLS unless
``SIJIL_SMTP_STARTTLS=0``; :func:`mail_session` sends a run of messages over one connection),
:class:`OutboxMailer` writes each message to ``<instance>/outbox/`` as an ``.eml`` file a
developer can open (a dev shortcut that says so in its log line).
:func:`mailer_for` is the shell that picks one; production without SMTP refuses
(``MAIL_NOT_CONFIGURED``) instead of silently dropping learners' links.

Variables: ``SIJIL_SMTP_HOST``, ``SIJIL_SMTP_PORT`` (587), ``SIJIL_SMTP_USERNAME``,
``SIJIL_SMTP_PASSWORD``, ``SIJIL_SMTP_STARTTLS`` (1), ``SIJIL_MAIL_FROM``.

Errors: ``MAIL_NOT_CONFIGURED`` (500), ``MAIL_DELIVERY_FAILED`` (502).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Final, Protocol

from contexts.errors import SijilError
from issuer.settings import Settings

__all__ = [
    "DEFAULT_MAIL_FROM",
    "MailDeliveryError",
    "MailNotConfiguredError",
    "Mailer",
    "OutboxMailer",
    "SmtpMailer",
    "SmtpSession",
    "mail_session",
    "mailer_for",
]

log = logging.getLogger(__name__)

DEFAULT_MAIL_FROM: Final = "registrar@localhost"


class MailNotConfiguredError(SijilError):
    """Production has no SMTP server configured."""

    code = "MAIL_NOT_CONFIGURED"
    title = "Mail is not configured"
    http_status = 500


class MailDeliveryError(SijilError):
    """The SMTP server refused or could not be reached."""

    code = "MAIL_DELIVERY_FAILED"
    title = "Mail delivery failed"
    http_status = 502


class Mailer(Protocol):
    """Delivers one message (raises ``MAIL_DELIVERY_FAILED``)."""

    @property
    def sender(self) -> str: ...

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class OutboxMailer:
    """Development: each message becomes ``<folder>/<uuid>.eml``."""

    folder: Path
    sender: str = DEFAULT_MAIL_FROM

    def send(self, message: EmailMessage) -> None:
        """Write ``message`` to the outbox (atomic rename, so readers never see half a file).

        Raises ``MAIL_DELIVERY_FAILED`` when the folder cannot be written."""
        path = self.folder / f"{uuid.uuid4()}.eml"
        tmp = path.with_suffix(".tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(message.as_bytes())
            tmp.replace(path)
        except OSError as exc:
            raise MailDeliveryError(f"could not write {path}: {exc}") from exc
        log.info("development mail written to %s (no SMTP configured)", path)


@dataclass(frozen=True)
class SmtpMailer:
    """An SMTP relay; STARTTLS with certificate checks unless ``starttls`` is off."""

    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = DEFAULT_MAIL_FROM
    timeout: float = 20.0

    def connect(self) -> smtplib.SMTP:
        """An open, authenticated connection (the caller closes it). Raises the library's
        ``SMTPException`` / ``OSError`` (translated by the callers)."""
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` on a connection of its own. Raises ``MAIL_DELIVERY_FAILED``."""
        try:
            with self.connect() as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(f"could not send mail through {self.host}: {exc}") from exc


class SmtpSession:
    """Many messages over one SMTP connection (a bulk import mails thousands of learners).

    The connection opens on the first message; a refused message fails alone (the server resets
    the transaction); a dropped connection fails that message and the next one reconnects.
    """

    def __init__(self, mailer: SmtpMailer) -> None:
        self._mailer = mailer
        self._smtp: smtplib.SMTP | None = None

    @property
    def sender(self) -> str:
        """The From address."""
        return self._mailer.sender

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``. Raises ``MAIL_DELIVERY_FAILED``."""
        try:
            if self._smtp is None:
                self._smtp = self._mailer.connect()
            self._smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise MailDeliveryError(
                f"could not send mail through {self._mailer.host}: {exc}"
            ) from exc
        except smtplib.SMTPException as exc:
            raise MailDeliveryError(
                f"could not send mail through {self._mailer.host}: {exc}"
            ) from exc

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        """Say QUIT (best effort: every message was already accepted or reported)."""
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            log.info(
                "SMTP QUIT to %s failed after the messages were sent: %s", self._mailer.host, exc
            )
        finally:
            self._drop()


@contextmanager
def mail_session(mailer: Mailer) -> Iterator[Mailer]:
    """``mailer`` for a run of messages: one shared connection for SMTP, else ``mailer`` itself."""
    if not isinstance(mailer, SmtpMailer):
        yield mailer
        return
    session = SmtpSession(mailer)
    try:
        yield session
    finally:
        session.close()


def mailer_for(settings: Settings) -> Mailer:
    """The mailer for this deployment, from its settings (``SIJIL_SMTP_*``, ``SIJIL_MAIL_FROM``,
    read once at start): SMTP when a host is set, else the development outbox folder.
    Raises ``MAIL_NOT_CONFIGURED`` in production without an SMTP host."""
    sender = settings.mail_from or DEFAULT_MAIL_FROM
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            sender=sender,
        )
    if settings.is_production:
        raise MailNotConfiguredError("production needs SIJIL_SMTP_HOST to send claim links")
    return OutboxMailer(settings.instance_dir / "outbox", sender=sender)
