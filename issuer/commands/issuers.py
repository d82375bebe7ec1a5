"""``sijil-issuer issuers suspension [--issuer SLUG] [--enable|--disable]``: the switch."""

from __future__ import annotations

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.issuers import get_issuer
from issuer.services.status import set_suspension_enabled, suspension_switches

__all__ = ["COMMAND"]


@click.group("issuers")
def issuers_group() -> None:
    """Issuer settings."""


@issuers_group.command("suspension")
@click.option("--issuer", "slug", default=None, help="Issuer slug (default: the default issuer).")
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Give credentials signed from now on a suspension status entry (or not).",
)
@cli_errors
def suspension(slug: str | None, enabled: bool | None) -> None:
    """Show or set whether new credentials get a ``suspension`` status entry besides
    ``revocation``. Credentials already issued keep the entries they were signed with."""
    with runtime() as rt:
        view = get_issuer(rt, slug)
        if enabled is None:
            value = suspension_switches(rt)[view.slug]
        else:
            value = set_suspension_enabled(rt, view.slug, enabled, actor=CLI_ACTOR)
    click.echo(f"issuer {view.slug}: suspension {'enabled' if value else 'disabled'}")


COMMAND = issuers_group
