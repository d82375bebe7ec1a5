"""``sijil-issuer tokens create|list|revoke``: API bearer tokens (stored hashed)."""

from __future__ import annotations

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.tokens import SCOPES, create_token, list_tokens, revoke_token

__all__ = ["COMMAND"]


@click.group("tokens")
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="Scope to grant (repeatable): admin, issue, read, metrics (only GET /metrics).",
)
@click.option("--label", default="", help="A note saying who or what uses the token.")
@click.option(
    "--issuer",
    "issuer",
    default=None,
    help="Limit the token to this issuer's awards, keys and credentials (slug).",
)
@cli_errors
def create(scopes: tuple[str, ...], label: str, issuer: str | None) -> None:
    """Print a new API token (shown once; only its hash is stored)."""
    with runtime() as rt:
        _view, secret = create_token(rt, scopes, label=label, actor=CLI_ACTOR, issuer=issuer)
    click.echo(secret)


@tokens.command("list")
@cli_errors
def list_command() -> None:
    """List tokens (prefixes and scopes, never secrets)."""
    with runtime() as rt:
        for t in list_tokens(rt):
            state = "revoked" if t.revoked_at else "active"
            only = f"issuer:{t.issuer}" if t.issuer else "all issuers"
            click.echo(f"{t.id}\t{t.prefix}…\t{','.join(t.scopes)}\t{only}\t{state}\t{t.label}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@cli_errors
def revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID."""
    with runtime() as rt:
        revoke_token(rt, token_id, actor=CLI_ACTOR)
    click.echo(f"revoked token {token_id}")


COMMAND = tokens
