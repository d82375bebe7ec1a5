"""``sijil-issuer init``: create the database (migrations) and the default issuer's first key."""

from __future__ import annotations

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.issuers import did_document_path, ensure_default_issuer

__all__ = ["COMMAND"]


@click.command("init")
@click.option("--name", default=None, help="Default issuer's name (first run only).")
@click.option("--email", default=None, help="Default issuer's contact email (first run only).")
@cli_errors
def init(name: str | None, email: str | None) -> None:
    """Create the database and the default issuer (idempotent)."""
    with runtime() as rt:
        kwargs: dict[str, str] = {}
        if name:
            kwargs["name"] = name
        if email:
            kwargs["email"] = email
        issuer = ensure_default_issuer(rt, actor=CLI_ACTOR, **kwargs)
        click.echo(f"database: {rt.settings.database_url}")
        click.echo(f"issuer:   {issuer.name} ({issuer.did})")
        click.echo(f"key:      {issuer.verification_method}")
        path = did_document_path(issuer)
        if path:
            click.echo(f"DID document served at {rt.settings.base_url}{path}")


COMMAND = init
