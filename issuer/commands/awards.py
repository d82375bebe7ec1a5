"""``sijil-issuer awards list|show|export``: the issued awards."""

from __future__ import annotations

from pathlib import Path

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.services.awards import EXPORT_FORMATS, export_awards, get_award, list_awards

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
    """Write one signed credential per JSON file into DIR."""
    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    with runtime() as rt:
        paths = export_awards(rt, directory, formats=wanted)
    click.echo(f"exported {len(paths)} credential(s) to {directory}")


COMMAND = awards
