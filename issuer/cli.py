"""``sijil-issuer``: the registrar's command line.

A thin Click group; each subcommand lives in :mod:`issuer.commands` and calls one core
function. Errors with a stable code print as ``CODE: detail`` and exit 1 (2 for unreadable input).
"""

from __future__ import annotations

import click

from issuer.commands import register_all


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sijil")
def cli() -> None:
    """Issue verifiable micro-credential awards (COC, COA, MMS)."""


register_all(cli)


def main() -> None:
    """Console-script entry point."""
    cli()
