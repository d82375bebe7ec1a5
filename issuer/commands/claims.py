"""``sijil-issuer claim-link``: a learner's claim link, printed, or mailed through the outbox.

``claim-link LEARNER`` prints a fresh link (``--days`` it works). ``--send`` queues a
``claim.resend`` event (audited ``learner.resend``; idempotent per learner and ``--key``, default
today's date, so re-running a resend loop mails nobody twice) and delivers it at once with a
bounded wait (``--mail-wait``); if the mail server does not answer, the outbox worker sends it
later. ``claim-link --all-pending`` re-arms every learner mail not yet delivered (backing off or
given up), audited per learner, and delivers what it can now.
"""

from __future__ import annotations

from datetime import timedelta

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.delivery.claims import CLAIM_LINK_LIFETIME, MAX_CLAIM_LINK_LIFETIME
from issuer.delivery.mail import Mailer, mailer_for
from issuer.delivery.notify import (
    NotificationReport,
    deliver_learner_mail,
    queue_resend,
    resend_pending,
)
from issuer.delivery.service import claim_link
from issuer.outbox.events import CLAIM_RESEND
from issuer.services.catalogue import get_learner
from issuer.services.runtime import Runtime

__all__ = ["COMMAND"]


def _deliver(rt: Runtime, *, batch: str | None, wait: float) -> NotificationReport:
    def mailer() -> Mailer:
        return mailer_for(rt.settings)

    return deliver_learner_mail(rt, mailer=mailer, batch=batch, wait=wait)


def _echo(report: NotificationReport) -> None:
    for learner in report.sent:
        click.echo(f"claim link sent to {learner}")
    for failure in report.failed:
        click.echo(f"mail to {failure.learner} failed: {failure.code}: {failure.detail}", err=True)
    if report.queued:
        click.echo(
            f"{report.queued} mail(s) still queued: the outbox worker sends them when the mail "
            "server answers",
            err=True,
        )


@click.command("claim-link")
@click.argument("learner", required=False)
@click.option(
    "--days",
    type=click.IntRange(1, MAX_CLAIM_LINK_LIFETIME.days),
    default=CLAIM_LINK_LIFETIME.days,
    show_default=True,
    help="How many days the link works.",
)
@click.option("--send", is_flag=True, help="Mail the link to the learner instead of printing it.")
@click.option(
    "--key",
    default=None,
    help="Resend run name (default: today's UTC date): one mail per learner per key.",
)
@click.option(
    "--all-pending",
    is_flag=True,
    help="Re-arm and send every learner mail not yet delivered (no LEARNER).",
)
@click.option(
    "--mail-wait",
    type=click.FloatRange(0.1),
    default=5.0,
    show_default=True,
    help="Longest wait for the mail server (seconds) before leaving it to the outbox worker.",
)
@cli_errors
def claim_link_command(
    learner: str | None, days: int, send: bool, key: str | None, all_pending: bool, mail_wait: float
) -> None:
    """Print (or mail) a fresh claim link for LEARNER (student id)."""
    if all_pending and learner is not None:
        raise click.UsageError("give a LEARNER or --all-pending, not both")
    lifetime = timedelta(days=days)
    with runtime() as rt:
        if all_pending:
            learners = resend_pending(rt, actor=CLI_ACTOR)
            click.echo(f"re-armed the pending mail of {len(learners)} learner(s)")
            _echo(_deliver(rt, batch=None, wait=mail_wait))
            return
        if learner is None:
            raise click.UsageError("give a LEARNER (student id) or --all-pending")
        if not send:
            click.echo(claim_link(rt, get_learner(rt, learner).external_id, lifetime=lifetime))
            return
        run = key or rt.now().date().isoformat()
        if not queue_resend(rt, learner, actor=CLI_ACTOR, lifetime=lifetime, key=run):
            click.echo(f"already sent or queued for {learner} under key {run!r} (--key to resend)")
            return
        _echo(_deliver(rt, batch=f"{CLAIM_RESEND}:{learner}:{run}", wait=mail_wait))


COMMAND = claim_link_command
