"""``sijil-issuer init``: create the database (migrations), remember the instance's base URL and
create the default issuer's first key."""

from __future__ import annotations

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.instance import remember_base_url, stored_base_url
from issuer.services.issuers import did_document_path, ensure_default_issuer

__all__ = ["COMMAND"]


@click.command("init")
@click.option("--name", default=None, help="Default issuer's name (first run only).")
@click.option("--email", default=None, help="Default issuer's contact email (first run only).")
@cli_errors
def init(name: str | None, email: str | None) -> None:
    """Create the database and the default issuer (idempotent).

    The base URL (``SIJIL_BASE_URL``) is stored in the instance on the first run; later commands
    use it when the variable is unset and refuse (``BASE_URL_MISMATCH``) when it differs.
    """
    with runtime() as rt:
        kwargs: dict[str, str] = {}
        if name:
            kwargs["name"] = name
        if email:
            kwargs["email"] = email
        with rt.reading() as session:
            first_run = stored_base_url(session) is None
        base_url = remember_base_url(rt)
        issuer = ensure_default_issuer(rt, actor=CLI_ACTOR, **kwargs)
        click.echo(f"database: {rt.settings.database_url}")
        click.echo(f"base URL: {base_url} (stored in the instance)")
        if first_run and not rt.settings.base_url_given:
            click.echo(
                "          (SIJIL_BASE_URL was not set: this is the development default; set it "
                "before the first init of a real instance)",
                err=True,
            )
        click.echo(f"issuer:   {issuer.name} ({issuer.did})")
        click.echo(f"key:      {issuer.verification_method}")
        path = did_document_path(issuer)
        if path:
            click.echo(f"DID document served at {base_url}{path}")


COMMAND = init
