"""``sijil-issuer demo``: seed the demo programme, learners and progress; issue their awards."""

from __future__ import annotations

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.services.demo import seed_demo

__all__ = ["COMMAND"]


@click.command("demo")
@cli_errors
def demo() -> None:
    """Seed demo data and issue COCs, COAs and an MMS (running it twice changes nothing)."""
    with runtime() as rt:
        summary = seed_demo(rt)
        click.echo(f"issuer: {summary.issuer.did}")
        click.echo(f"newly issued: {summary.newly_issued}")
        for award in summary.awards:
            click.echo(
                f"{award.award_type} {award.achievement_code:<8} {award.learner:<6} "
                f"{award.credential_id}"
            )


COMMAND = demo
