"""``sijil-issuer claim-link LEARNER [--send]``: a learner's claim link, printed or mailed.

For registrars and the demo: print the link that opens a learner's page (``--days`` it works),
or mail it (``--send``: SMTP from ``SIJIL_SMTP_*``, in development the ``<instance>/outbox``
folder).
"""

from __future__ import annotations

import os
from datetime import timedelta

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.delivery.claims import CLAIM_LINK_LIFETIME
from issuer.delivery.mail import mailer_from_env
from issuer.delivery.service import claim_link, send_claim_link
from issuer.services.catalogue import get_learner

__all__ = ["COMMAND"]


@click.command("claim-link")
@click.argument("learner")
@click.option(
    "--days",
    type=click.IntRange(1, 365),
    default=CLAIM_LINK_LIFETIME.days,
    show_default=True,
    help="How many days the link works.",
)
@click.option("--send", is_flag=True, help="Mail the link to the learner instead of printing it.")
@cli_errors
def claim_link_command(learner: str, days: int, send: bool) -> None:
    """Print (or mail) a fresh claim link for LEARNER (student id)."""
    lifetime = timedelta(days=days)
    with runtime() as rt:
        if send:
            message = send_claim_link(
                rt, learner, mailer=mailer_from_env(rt.settings, os.environ), lifetime=lifetime
            )
            click.echo(f"claim link sent to {message['To']}")
        else:
            click.echo(claim_link(rt, get_learner(rt, learner).external_id, lifetime=lifetime))


COMMAND = claim_link_command
