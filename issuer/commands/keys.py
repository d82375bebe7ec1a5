"""``sijil-issuer keys rotate [--issuer SLUG]``: new signing key, old ones stay published."""

from __future__ import annotations

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.issuers import rotate_key

__all__ = ["COMMAND"]


@click.group("keys")
def keys_group() -> None:
    """Manage issuer signing keys."""


@keys_group.command("rotate")
@click.option("--issuer", "slug", default=None, help="Issuer slug (default: the default issuer).")
@click.option("--key-type", type=click.Choice(("Ed25519", "P-256", "P-384")), default=None)
@cli_errors
def rotate(slug: str | None, key_type: str | None) -> None:
    """Add a new signing key; credentials signed with older keys keep verifying."""
    with runtime() as rt:
        view = rotate_key(
            rt,
            slug,
            actor=CLI_ACTOR,
            key_type="P-256"
            if key_type == "P-256"
            else "P-384"
            if key_type == "P-384"
            else "Ed25519"
            if key_type == "Ed25519"
            else None,
        )
    click.echo(f"issuer {view.slug}: signing with {view.verification_method}")
    for vm in view.verification_methods[1:]:
        click.echo(f"  still published: {vm}")


COMMAND = keys_group
