"""Mailing learners their claim link once new awards were issued (after the commit, never in it).

Every shell that issues (web ``POST /progress`` and ``POST /progress/import``, the CLI
``import-progress``, the demo) calls :func:`notify_learners` *after* the issuing transaction
committed: a mail never announces an award that was rolled back, and a mail that fails never
loses an award. Each learner gets one mail however many awards they received (a bulk import of
thousands of rows mails each learner once).

Failures are logged and recorded in the audit log as ``learner.notify_failed`` (target the
learner, detail the error code), successes as ``learner.notify``, so a registrar can see who was
not reached (``GET /audit?action=learner.notify_failed``) and retry with
``sijil-issuer claim-link LEARNER --send``.

The switch is ``SIJIL_NOTIFY_LEARNERS`` (:attr:`issuer.settings.Settings.notify_learners`,
default on); ``import-progress --no-notify`` turns it off for one run.

Errors: none raised for mail problems (they are reported in :class:`NotificationReport`); a
database error while recording the outcome propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select

from contexts.errors import SijilError
from issuer.db.models import AuditEntry
from issuer.delivery.mail import Mailer, mail_session
from issuer.delivery.service import send_claim_link
from issuer.services import audit
from issuer.services.awards import AwardView
from issuer.services.runtime import Runtime

__all__ = [
    "NOTIFY_ACTION",
    "NOTIFY_FAILED_ACTION",
    "NotificationFailure",
    "NotificationReport",
    "audit_mark",
    "learners_awarded",
    "learners_awarded_since",
    "notify_learners",
]

log = logging.getLogger(__name__)

NOTIFY_ACTION: Final = "learner.notify"
NOTIFY_FAILED_ACTION: Final = "learner.notify_failed"


@dataclass(frozen=True)
class NotificationFailure:
    """One learner whose mail could not be sent."""

    learner: str
    code: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"learner": self.learner, "code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class NotificationReport:
    """Who was mailed and who was not (and why)."""

    sent: tuple[str, ...] = ()
    failed: tuple[NotificationFailure, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"sent": list(self.sent), "failed": [f.to_dict() for f in self.failed]}


def learners_awarded(awards: Iterable[AwardView]) -> list[str]:
    """The learners (external ids, sorted, each once) who hold ``awards``."""
    return sorted({award.learner for award in awards})


def audit_mark(rt: Runtime) -> int:
    """The newest audit entry id now (0 for an empty log): pass it to
    :func:`learners_awarded_since` after a run whose issued awards the shell cannot see
    directly (the CSV import reports counts, not awards)."""
    with rt.reading() as session:
        return int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def learners_awarded_since(rt: Runtime, mark: int, *, actor: str) -> list[str]:
    """Learners (sorted, each once) who received an award from ``actor`` after audit entry
    ``mark``: every issuance writes an ``award.issue`` entry in its own transaction, so this sees
    exactly the committed awards of the run (and those of a concurrent run by the same actor)."""
    query = select(AuditEntry.detail).where(
        AuditEntry.id > mark, AuditEntry.action == "award.issue", AuditEntry.actor == actor
    )
    with rt.reading() as session:
        learners = {
            str(detail["learner"])
            for detail in session.scalars(query)
            if isinstance(detail, dict) and detail.get("learner")
        }
    return sorted(learners)


def notify_learners(
    rt: Runtime, learners: Iterable[str], *, mailer: Callable[[], Mailer], actor: str
) -> NotificationReport:
    """Mail each of ``learners`` (once each) a fresh claim link; call after the awards committed.

    SMTP messages share one connection (:func:`issuer.delivery.mail.mail_session`).

    ``mailer`` is called once, only when there is someone to mail, so a deployment without mail
    configured (``MAIL_NOT_CONFIGURED``) fails here, per learner and recorded, never in the
    issuing request. Every outcome is logged and audited (``learner.notify`` /
    ``learner.notify_failed``) in one transaction after the mails.
    """
    wanted = sorted(set(learners))
    if not wanted:
        return NotificationReport()
    sent: list[str] = []
    failed: list[NotificationFailure] = []
    try:
        delivery: Mailer | None = mailer()
    except SijilError as exc:
        log.error("cannot mail %d learner(s) their new awards: %s", len(wanted), exc.detail)
        delivery = None
        failed = [NotificationFailure(learner, exc.code, exc.detail) for learner in wanted]
    if delivery is not None:
        with mail_session(delivery) as session:
            for learner in wanted:
                try:
                    send_claim_link(rt, learner, mailer=session)
                except SijilError as exc:
                    log.error(
                        "could not mail learner %s their new awards (%s: %s); retry with "
                        "`sijil-issuer claim-link %s --send`",
                        learner,
                        exc.code,
                        exc.detail,
                        learner,
                    )
                    failed.append(NotificationFailure(learner, exc.code, exc.detail))
                else:
                    sent.append(learner)
    _record(rt, sent, failed, actor=actor)
    return NotificationReport(sent=tuple(sent), failed=tuple(failed))


def _record(rt: Runtime, sent: list[str], failed: list[NotificationFailure], *, actor: str) -> None:
    at = rt.now()
    with rt.transaction() as session:
        for learner in sent:
            audit.record(
                session,
                at=at,
                actor=actor,
                action=NOTIFY_ACTION,
                target_type="learner",
                target_id=learner,
            )
        for failure in failed:
            audit.record(
                session,
                at=at,
                actor=actor,
                action=NOTIFY_FAILED_ACTION,
                target_type="learner",
                target_id=failure.learner,
                detail={"code": failure.code, "detail": failure.detail[:500]},
            )
