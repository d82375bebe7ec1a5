"""``sijil-issuer demo``: seed the demo programme, learners and progress; issue their awards.

``--notify`` also writes each learner with new awards a claim-link mail into the development
outbox (``<instance>/outbox/*.eml``), never through SMTP: the demo learners' addresses are made
up. Off by default, since the command may run against a configured deployment (the dev server,
``python3 dev.py run``, always writes them).
"""

from __future__ import annotations

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.delivery.mail import OutboxMailer
from issuer.delivery.notify import deliver_learner_mail
from issuer.outbox.events import batch_scope
from issuer.services.demo import seed_demo

__all__ = ["COMMAND"]

_ACTOR = "demo"


@click.command("demo")
@click.option(
    "--notify",
    is_flag=True,
    help="Write the claim-link mails of newly awarded demo learners to <instance>/outbox/.",
)
@cli_errors
def demo(notify: bool) -> None:
    """Seed demo data and issue COCs, COAs and an MMS (running it twice changes nothing)."""
    with runtime() as rt:
        with batch_scope(notify=notify):  # made-up addresses: queue mail only when asked
            summary = seed_demo(rt, actor=_ACTOR)
        click.echo(f"issuer: {summary.issuer.did}")
        click.echo(f"newly issued: {summary.newly_issued}")
        for award in summary.awards:
            click.echo(
                f"{award.award_type} {award.achievement_code:<8} {award.learner:<6} "
                f"{award.credential_id}"
            )
        if notify:
            outbox = rt.settings.instance_dir / "outbox"
            report = deliver_learner_mail(rt, mailer=lambda: OutboxMailer(outbox))
            if report.sent:
                click.echo(f"mailed claim links to {', '.join(report.sent)} (see {outbox}/)")
            for failure in report.failed:
                click.echo(f"mail to {failure.learner} failed: {failure.code}", err=True)


COMMAND = demo
