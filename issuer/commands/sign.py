"""``sijil-issuer sign``: secure a credential file with a KEY.json and print it.

The key file is a Multikey pair (``publicKeyMultibase`` + ``secretKeyMultibase``) or a private
JWK (the form RSA keys take; ``kid`` names the verification method). ``--suite`` is any format
of the registry (:data:`keys.formats.FORMAT_NAMES`): a Data Integrity cryptosuite, or
``vc-jwt`` (the Open Badges 3.0 JWT proof format for badges: ``RS256`` with an RSA key,
``ES256`` with P-256, ``EdDSA`` with Ed25519).

Verification method: ``--verification-method``, else the key file's ``id`` / ``kid`` (as in
the 1EdTech OB 3.0 vector, whose ``keyPair.json`` names
``https://example.edu/issuers/565049#z6Mk...``), else ``did:key:X#X`` for the key X.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from contexts.errors import ParsingError
from issuer.commands.shell import cli_errors
from keys.formats import FORMAT_NAMES, sign_credential
from keys.keypair import load_keypair

__all__ = ["COMMAND", "SUITE_CHOICES"]

#: What ``--suite`` accepts: every registered credential format.
SUITE_CHOICES = FORMAT_NAMES


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParsingError(f"cannot read {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise ParsingError(f"{path} is not a JSON object")
    return value


@click.command("sign")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="KEY.json: a Multikey pair (secretKeyMultibase, optional id) or a private JWK (kid).",
)
@click.option(
    "--suite", type=click.Choice(SUITE_CHOICES), default=SUITE_CHOICES[0], show_default=True
)
@click.option("--created", default=None, help="Proof creation time (ISO 8601); default now.")
@click.option(
    "--verification-method",
    "verification_method",
    default=None,
    help="VM URL; default the key file's id, else did:key:X#X.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cli_errors
def sign(
    key_file: Path,
    suite: str,
    created: str | None,
    verification_method: str | None,
    file: Path,
) -> None:
    """Secure FILE and print the secured credential (JSON, or a compact VC-JWT)."""
    credential = _read_json(file)
    key = load_keypair(key_file)
    secured = sign_credential(
        credential, key, suite, verification_method=verification_method, created=created
    )
    if isinstance(secured, str):
        click.echo(secured)
        return
    click.echo(json.dumps(secured, indent=2, ensure_ascii=False))


COMMAND = sign
