"""Sending mail: SMTP in production, a local outbox folder in development.

:class:`Mailer` is the one seam; :class:`SmtpMailer` talks to ``SIJIL_SMTP_HOST`` (STARTTLS unless
``SIJIL_SMTP_STARTTLS=0``), :class:`OutboxMailer` writes each message to ``<instance>/outbox/`` as
an ``.eml`` file a developer can open (a dev shortcut that says so in its log line).
:func:`mailer_from_env` is the shell that picks one; production without SMTP refuses
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
from collections.abc import Mapping
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
    "mailer_from_env",
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
        """Write ``message`` to the outbox (atomic rename, so readers never see half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4()}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)
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

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``. Raises ``MAIL_DELIVERY_FAILED``."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(f"could not send mail through {self.host}: {exc}") from exc


def mailer_from_env(settings: Settings, environ: Mapping[str, str]) -> Mailer:
    """The mailer for this deployment (shell only). Raises ``MAIL_NOT_CONFIGURED``."""
    sender = environ.get("SIJIL_MAIL_FROM") or DEFAULT_MAIL_FROM
    host = environ.get("SIJIL_SMTP_HOST", "").strip()
    if host:
        return SmtpMailer(
            host=host,
            port=int(environ.get("SIJIL_SMTP_PORT") or 587),
            username=environ.get("SIJIL_SMTP_USERNAME", ""),
            password=environ.get("SIJIL_SMTP_PASSWORD", ""),
            starttls=environ.get("SIJIL_SMTP_STARTTLS", "1").strip().lower()
            not in ("0", "false", "no"),
            sender=sender,
        )
    if settings.is_production:
        raise MailNotConfiguredError("production needs SIJIL_SMTP_HOST to send claim links")
    return OutboxMailer(settings.instance_dir / "outbox", sender=sender)
