"""Delivering claim links to learners by email.

:func:`send_claim_link` mails one learner a fresh claim link and :func:`send_status_news` tells
one what happened to a credential (revoked, suspended, reinstated, re-issued); the outbox
worker's learner-mail subscriber calls both (see :mod:`issuer.delivery.notify`).
:func:`learners_with_email` finds the learners an "email me a new link" request is for. The
request itself only queues an event (:func:`issuer.delivery.notify.queue_claim_request`), so it
takes the same time and answers the same whether or not the address is known.

Errors: ``NOT_FOUND`` (unknown learner), the mailer's ``MAIL_DELIVERY_FAILED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Final

from sqlalchemy import func, select

from issuer.db.models import Learner
from issuer.delivery.claims import CLAIM_LINK_LIFETIME, make_claim_token
from issuer.delivery.mail import Mailer
from issuer.services.catalogue import LearnerView, get_learner
from issuer.services.runtime import Runtime

__all__ = [
    "StatusNews",
    "claim_link",
    "claim_message",
    "learners_with_email",
    "send_claim_link",
    "send_status_news",
    "status_message",
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


@dataclass(frozen=True)
class StatusNews:
    """What happened to one of a learner's credentials, for the mail telling them."""

    title: str
    status: str
    reason: str
    replaced_by: bool = False


_STATUS_WORDS: Final[dict[str, tuple[str, str]]] = {
    "revoked": ("revoked", "dibatalkan"),
    "suspended": ("suspended", "digantung"),
    "active": ("reinstated", "dipulihkan"),
}


def status_message(
    learner: LearnerView, news: StatusNews, link: str, *, sender: str
) -> EmailMessage:
    """The bilingual email telling a learner a credential was revoked, suspended, reinstated or
    replaced by a re-issued one, why, and what comes next (their page shows the rest)."""
    en, ms = _STATUS_WORDS.get(news.status, (news.status, news.status))
    if news.replaced_by:
        en, ms = "re-issued", "dikeluarkan semula"
        next_en = "The new credential is on your page; the old one no longer verifies."
        next_ms = "Kredensial baharu ada di halaman anda; yang lama tidak lagi sah."
    elif news.status == "active":
        next_en = "It verifies again; nothing else to do."
        next_ms = "Ia sah semula; tiada tindakan lain diperlukan."
    else:
        next_en = (
            "Employers who check it now see this. If it is a mistake, or a corrected credential "
            "is due, your registrar's office will re-issue it and we will write again."
        )
        next_ms = (
            "Majikan yang menyemaknya kini melihat perkara ini. Jika ini satu kesilapan, atau "
            "kredensial yang diperbetulkan perlu dikeluarkan, pejabat pendaftar anda akan "
            "mengeluarkannya semula dan kami akan menulis lagi."
        )
    message = EmailMessage()
    message["Subject"] = f"Your credential was {en} / Kredensial anda telah {ms}"
    message["From"] = sender
    message["To"] = learner.email
    reason = f"Reason: {news.reason}\n" if news.reason else ""
    reason_ms = f"Sebab: {news.reason}\n" if news.reason else ""
    message.set_content(
        f"Dear {learner.name},\n\n"
        f'Your credential "{news.title}" was {en}.\n{reason}{next_en}\n'
        f"Your credentials: {link}\n\n"
        f"Kepada {learner.name},\n\n"
        f'Kredensial anda "{news.title}" telah {ms}.\n{reason_ms}{next_ms}\n'
        f"Kredensial anda: {link}\n"
    )
    return message


def send_status_news(
    rt: Runtime, learner: str, news: StatusNews, *, mailer: Mailer, message_id: str | None = None
) -> EmailMessage:
    """Mail ``learner`` (external id) what happened to a credential, with a fresh claim link.
    Raises ``NOT_FOUND`` and the mailer's ``MAIL_DELIVERY_FAILED``."""
    view = get_learner(rt, learner)
    message = status_message(view, news, claim_link(rt, view.external_id), sender=mailer.sender)
    message["Date"] = format_datetime(rt.now())
    message["Message-ID"] = message_id or make_msgid(domain="sijil")
    mailer.send(message)
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
