"""``sijil-issuer keys rotate|activate|list|retire``: the two-step signing-key rotation.

``rotate`` stages a new key (published in the DID document, not signing yet) and prints it;
``activate`` switches signing once every instance's key store holds the key file; ``retire``
withdraws an old key from the DID document and reports (optionally revokes) what it signed.
"""

from __future__ import annotations

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.issuers import rotate_key
from issuer.services.keylifecycle import activate_key, list_keys, retire_key
from keys.keypair import KeyType

__all__ = ["COMMAND"]

_KEY_TYPES: dict[str, KeyType] = {"Ed25519": "Ed25519", "P-256": "P-256", "P-384": "P-384"}
_ISSUER = click.option(
    "--issuer", "slug", default=None, help="Issuer slug (default: the default issuer)."
)


@click.group("keys")
def keys_group() -> None:
    """Manage issuer signing keys."""


@keys_group.command("rotate")
@_ISSUER
@click.option("--key-type", type=click.Choice(tuple(_KEY_TYPES)), default=None)
@click.option(
    "--activate",
    "activate_now",
    is_flag=True,
    help="Also sign with it at once (only when this key store is the only one).",
)
@cli_errors
def rotate(slug: str | None, key_type: str | None, activate_now: bool) -> None:
    """Stage a new signing key: published in the DID document now, used for signing after
    `keys activate`. Credentials signed with older keys keep verifying."""
    with runtime() as rt:
        view = rotate_key(
            rt,
            slug,
            actor=CLI_ACTOR,
            key_type=_KEY_TYPES[key_type] if key_type else None,
            activate=activate_now,
        )
        new = view.verification_method if activate_now else view.verification_methods[1]
        key_file = rt.keystore.path_of(new)
    if activate_now:
        click.echo(f"issuer {view.slug}: signing with {new}")
    else:
        click.echo(f"issuer {view.slug}: staged {new}")
        click.echo(f"  key file: {key_file}")
        click.echo(f"  still signing with {view.verification_method}")
        click.echo(
            "  next: copy the key file into every instance's key store, check that each "
            f"instance's /readyz no longer lists it as missing, then run "
            f"`sijil-issuer keys activate --issuer {view.slug}`"
        )
    for vm in view.verification_methods[1:]:
        if vm != new:
            click.echo(f"  still published: {vm}")


@keys_group.command("activate")
@click.argument("key", required=False)
@_ISSUER
@cli_errors
def activate(key: str | None, slug: str | None) -> None:
    """Sign with KEY (a verification method id or its #fragment; default: the newest staged
    key) from now on. Run it once every instance holds the key file: an instance that lacks it
    keeps signing with the previous key and says so in its log and /readyz."""
    with runtime() as rt:
        view = activate_key(rt, slug, key, actor=CLI_ACTOR)
        held = rt.keystore.path_of(view.verification_method).exists()
    click.echo(f"issuer {view.slug}: signing with {view.verification_method}")
    if not held:
        click.echo(
            "  warning: this key store does not hold the key; instances without it keep "
            "signing with the previous key until its file arrives",
            err=True,
        )


@keys_group.command("list")
@_ISSUER
@cli_errors
def list_command(slug: str | None) -> None:
    """One line per key: verification method, type, state, whether this key store holds it."""
    with runtime() as rt:
        keys = list_keys(rt, slug)
    for k in keys:
        held = "held" if k.held else "NOT in this key store"
        click.echo(f"{k.verification_method}\t{k.key_type}\t{k.state}\t{held}")


@keys_group.command("retire")
@click.argument("key")
@_ISSUER
@click.option(
    "--revoke-signed",
    is_flag=True,
    help="Also revoke every award whose proof names the key (then re-issue them).",
)
@click.option("--reason", default=None, help="Revocation reason (with --revoke-signed).")
@cli_errors
def retire(key: str, slug: str | None, revoke_signed: bool, reason: str | None) -> None:
    """Withdraw KEY from the DID document: proofs naming it stop verifying. Lists the awards it
    signed; with --revoke-signed revokes them so each can be re-issued with the active key."""
    with runtime() as rt:
        outcome = retire_key(
            rt, slug, key, actor=CLI_ACTOR, revoke_signed=revoke_signed, reason=reason
        )
    note = "retired" if outcome.changed else "already retired"
    click.echo(f"issuer {outcome.issuer}: {note} {outcome.verification_method}")
    click.echo(f"  {len(outcome.signed)} award(s) signed with it")
    revoked = {c.award_id for c in outcome.revoked}
    for award_id in outcome.signed:
        mark = "revoked" if award_id in revoked else "not revoked here: no longer verifies"
        click.echo(f"  {award_id}\t{mark}")
    for award_id in outcome.reissue:
        click.echo(f"  re-issue: sijil-issuer awards reissue {award_id} --reason TEXT")


COMMAND = keys_group
