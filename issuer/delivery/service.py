"""Delivering claim links to learners by email.

:func:`send_claim_link` mails one learner a fresh claim link; :func:`request_claim_link` is the
"email me a new link" form: it answers the same whether or not the address is known, so the form
cannot be used to find out who studies here.

Errors: ``NOT_FOUND`` (unknown learner), the mailer's ``MAIL_DELIVERY_FAILED``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, select

from issuer.db.models import Learner
from issuer.delivery.claims import CLAIM_LINK_LIFETIME, make_claim_token
from issuer.delivery.mail import Mailer
from issuer.services.awards import AwardView
from issuer.services.catalogue import LearnerView, get_learner
from issuer.services.runtime import Runtime

__all__ = [
    "claim_link",
    "claim_message",
    "notify_new_awards",
    "request_claim_link",
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
) -> EmailMessage:
    """Mail ``learner`` (external id or view) a fresh claim link; returns the message sent.

    Raises ``NOT_FOUND`` for an unknown learner and the mailer's ``MAIL_DELIVERY_FAILED``.
    """
    view = get_learner(rt, learner) if isinstance(learner, str) else learner
    link = claim_link(rt, view.external_id, lifetime=lifetime)
    message = claim_message(view, link, sender=mailer.sender, days=lifetime.days)
    message["Date"] = format_datetime(rt.now())
    message["Message-ID"] = make_msgid(domain="sijil")
    mailer.send(message)
    return message


def request_claim_link(rt: Runtime, email: str, *, mailer: Mailer) -> int:
    """Mail a fresh claim link to every learner registered with ``email`` (case-insensitive).

    Returns how many were sent (0 for an unknown address; callers must not reveal it).
    """
    address = email.strip().lower()
    if not address or "@" not in address:
        return 0
    with rt.reading() as session:
        ids = list(
            session.scalars(
                select(Learner.external_id)
                .where(func.lower(Learner.email) == address)
                .order_by(Learner.external_id)
            )
        )
    for external_id in ids:
        send_claim_link(rt, external_id, mailer=mailer)
    return len(ids)


def notify_new_awards(rt: Runtime, awards: Iterable[AwardView], *, mailer: Mailer) -> list[str]:
    """Mail one claim link to each learner who just received ``awards`` (one mail per learner,
    however many awards). Call it after the awards' transactions committed, so a mail never
    announces an award that was rolled back. Returns the learners mailed, sorted.
    """
    learners = sorted({award.learner for award in awards})
    for learner in learners:
        send_claim_link(rt, learner, mailer=mailer)
    return learners
