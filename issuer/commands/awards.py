"""``sijil-issuer awards list|show|export|revoke|suspend|unsuspend``: the issued awards."""

from __future__ import annotations

import os
from pathlib import Path

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.exports.formats import (
    EXPORT_FORMATS,
    export_award_files,
    parse_formats,
    verifier_url_from,
)
from issuer.services.awards import get_award, list_awards
from issuer.services.status import Action, change_status

__all__ = ["COMMAND"]


@click.group("awards")
def awards() -> None:
    """Inspect and export issued awards."""


@awards.command("list")
@click.option("--learner", default=None, help="Only this learner (student id).")
@click.option("--type", "award_type", type=click.Choice(("COC", "COA", "MMS")), default=None)
@cli_errors
def list_command(learner: str | None, award_type: str | None) -> None:
    """One line per award: id, type, achievement, learner, status, issued at."""
    with runtime() as rt:
        for a in list_awards(rt, learner=learner, award_type=award_type, limit=None):
            click.echo(
                f"{a.id}\t{a.award_type}\t{a.achievement_code}\t{a.learner}\t{a.status}\t"
                f"{a.issued_at.isoformat()}"
            )


@awards.command("show")
@click.argument("award_id")
@cli_errors
def show(award_id: str) -> None:
    """Print the signed credential of AWARD_ID (UUID or credential URL), verbatim."""
    with runtime() as rt:
        click.echo(get_award(rt, award_id).credential_json)


@awards.command("export")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--formats",
    default="json",
    show_default=True,
    help=f"Comma-separated formats ({', '.join(EXPORT_FORMATS)}).",
)
@cli_errors
def export(directory: Path, formats: str) -> None:
    """Write each award into DIR in every format asked for: the signed credential as JSON, baked
    Open Badges PNG and SVG, and a printable PDF certificate whose QR code opens the verifier.
    """
    wanted = parse_formats(formats)
    with runtime() as rt:
        verifier_url = verifier_url_from(rt.settings, os.environ)
        paths = export_award_files(rt, directory, wanted, verifier_url=verifier_url)
    click.echo(f"exported {len(paths)} file(s) to {directory}")


def _status_command(action: Action, summary: str) -> None:
    @awards.command(action, help=summary)
    @click.argument("award_ids", nargs=-1, required=True)
    @click.option("--reason", required=True, help="Why (kept in the audit log).")
    @cli_errors
    def command(award_ids: tuple[str, ...], reason: str) -> None:
        with runtime() as rt:
            changes = change_status(rt, list(award_ids), action, reason=reason, actor="cli")
        for change in changes:
            note = "" if change.changed else " (unchanged)"
            click.echo(f"{change.award_id}\t{change.before} -> {change.after}{note}")
            for mms in change.stacked_in if change.after != "active" else ():
                click.echo(f"  MMS {mms} embeds it and now fails stacking checks")


_status_command(
    "revoke",
    "Revoke AWARD_IDS (UUIDs or credential URLs) for good; their status lists are re-signed.",
)
_status_command("suspend", "Suspend AWARD_IDS (reversible with unsuspend).")
_status_command("unsuspend", "Lift the suspension of AWARD_IDS.")

COMMAND = awards
