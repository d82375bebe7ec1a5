"""``sijil-issuer import-progress FILE.csv``: bulk progress from an LMS export.

Columns: see :mod:`issuer.domain.progress` (``learner_id, micro_credential, event, item`` required;
``score, grade, occurred_at, learner_email, learner_name, learner_did`` optional).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click._termui_impl import ProgressBar

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.services.csvimport import import_progress

__all__ = ["COMMAND"]


def _count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


@click.command("import-progress")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cli_errors
def import_progress_command(csv_file: Path) -> None:
    """Record progress events from CSV_FILE and issue what became due.

    Bad rows are reported by line and skipped; good rows are kept. Exit status 1 when any row
    was rejected. Re-importing a file issues nothing twice.

    \b
    CSV columns (UTF-8, header row required, any order):
      learner_id        student id (required)
      micro_credential  micro-credential code (required)
      event             material_completed | assessment_result (required)
      item              material or assessment code (required)
      score             percent 0-100 (assessment_result)
      grade             letter grade (optional)
      occurred_at       ISO 8601 time (optional)
      learner_email     needed when the learner is new
      learner_name      needed when the learner is new
      learner_did       learner's DID (optional)
    """
    bar: ProgressBar[int]
    with (
        runtime() as rt,
        click.progressbar(length=_count_rows(csv_file), label="importing", file=sys.stderr) as bar,
    ):

        def advance(rows: int) -> None:
            bar.update(rows)

        summary = import_progress(rt, csv_file, actor=CLI_ACTOR, on_progress=advance)
    for bad in summary.bad_rows:
        click.echo(f"line {bad.line}: {bad.code}: {bad.detail}", err=True)
    issued = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.issued.items())) or "nothing"
    click.echo(
        f"{summary.rows} rows: {summary.recorded} recorded, {summary.unchanged} already known, "
        f"{len(summary.bad_rows)} rejected; issued {issued}"
    )
    if summary.bad_rows:
        raise SystemExit(1)


COMMAND = import_progress_command
