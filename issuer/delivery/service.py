"""Delivering claim links to learners by email.

:func:`send_claim_link` mails one learner a fresh claim link (the outbox worker's learner-mail
subscriber calls it, see :mod:`issuer.delivery.notify`); :func:`learners_with_email` finds the
learners an "email me a new link" request is for. The request itself only queues an event
(:func:`issuer.delivery.notify.queue_claim_request`), so it takes the same time and answers the
same whether or not the address is known.

Errors: ``NOT_FOUND`` (unknown learner), the mailer's ``MAIL_DELIVERY_FAILED``.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, select

from issuer.db.models import Learner
from issuer.delivery.claims import CLAIM_LINK_LIFETIME, make_claim_token
from issuer.delivery.mail import Mailer
from issuer.services.catalogue import LearnerView, get_learner
from issuer.services.runtime import Runtime

__all__ = [
    "claim_link",
    "claim_message",
    "learners_with_email",
    "send_claim_link",
]


def claim_link(rt: Runtime, learner: str, *, lifetime: timedelta = CLAIM_LINK_LIFETIME) -> str:
    """A fresh claim link (``{base}/claim/<token>``) for learner ``learner`` (external id)."""
    token = make_claim_token(rt.settings.secret_key, learner, at=rt.now(), lifetime=lifetime)
    return f"{rt.settings.base_url}/claim/{token}"


def claim_message(learner: LearnerView, link: str, *, sender: str, days: int) -> EmailMessage:
    """The bilingual (English/Malay) email carrying ``link``."""
    message = EmailMessage()
    message["Subject"] = "Your credentials / Kredensial anda"
    message["From"] = sender
    message["To"] = learner.email
    message.set_content(
        f"Dear {learner.name},\n\n"
        "Your digital credentials are ready. Open this link to see, download and share them:\n"
        f"{link}\n\n"
        f"The link works for {days} days; you can ask for a new one on the same page.\n\n"
        f"Kepada {learner.name},\n\n"
        "Kredensial digital anda telah sedia. Buka pautan ini untuk melihat, memuat turun dan "
        f"berkongsi kredensial anda:\n{link}\n\n"
        f"Pautan ini sah selama {days} hari; anda boleh meminta pautan baharu di halaman yang "
        "sama.\n"
    )
    return message


def send_claim_link(
    rt: Runtime,
    learner: str | LearnerView,
    *,
    mailer: Mailer,
    lifetime: timedelta = CLAIM_LINK_LIFETIME,
    message_id: str | None = None,
) -> EmailMessage:
    """Mail ``learner`` (external id or view) a fresh claim link; returns the message sent.

    ``message_id`` (default: a fresh one) lets the outbox give a re-sent message the same
    ``Message-ID``, which mail clients use to fold duplicates.
    Raises ``NOT_FOUND`` for an unknown learner and the mailer's ``MAIL_DELIVERY_FAILED``.
    """
    view = get_learner(rt, learner) if isinstance(learner, str) else learner
    link = claim_link(rt, view.external_id, lifetime=lifetime)
    message = claim_message(view, link, sender=mailer.sender, days=lifetime.days)
    message["Date"] = format_datetime(rt.now())
    message["Message-ID"] = message_id or make_msgid(domain="sijil")
    mailer.send(message)
    return message


def learners_with_email(rt: Runtime, email: str) -> list[str]:
    """External ids (sorted) of the learners registered with ``email`` (case-insensitive);
    empty for an unknown or malformed address."""
    address = email.strip().lower()
    if not address or "@" not in address:
        return []
    with rt.reading() as session:
        return list(
            session.scalars(
                select(Learner.external_id)
                .where(func.lower(Learner.email) == address)
                .order_by(Learner.external_id)
            )
        )
