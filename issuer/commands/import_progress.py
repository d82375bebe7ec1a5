"""``sijil-issuer import-progress FILE.csv``: bulk progress from an LMS export.

Columns: see :mod:`issuer.domain.progress` (``learner_id, micro_credential, event, item`` required;
``score, grade, occurred_at, learner_email, learner_name, learner_did`` optional).

After the import, every learner who received new awards is mailed their claim link once (SMTP from
``SIJIL_SMTP_*``, in development the ``<instance>/outbox`` folder), unless ``--no-notify`` or
``SIJIL_NOTIFY_LEARNERS=0``. A mail that fails is reported and audited; the awards stay issued.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from click._termui_impl import ProgressBar

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.delivery.mail import Mailer, mailer_from_env
from issuer.delivery.notify import (
    NotificationReport,
    audit_mark,
    learners_awarded_since,
    notify_learners,
)
from issuer.services.csvimport import ImportSummary, import_progress
from issuer.services.runtime import Runtime

__all__ = ["COMMAND"]


def _count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


def _import(
    rt: Runtime, csv_file: Path, *, notify: bool
) -> tuple[ImportSummary, NotificationReport]:
    """Import, then (even if a later chunk failed) mail the learners of the committed awards."""
    mark = audit_mark(rt)
    bar: ProgressBar[int]
    try:
        with click.progressbar(
            length=_count_rows(csv_file), label="importing", file=sys.stderr
        ) as bar:

            def advance(rows: int) -> None:
                bar.update(rows)

            summary = import_progress(rt, csv_file, actor=CLI_ACTOR, on_progress=advance)
    finally:
        report = NotificationReport()
        if notify:

            def mailer() -> Mailer:
                return mailer_from_env(rt.settings, os.environ)

            learners = learners_awarded_since(rt, mark, actor=CLI_ACTOR)
            report = notify_learners(rt, learners, mailer=mailer, actor=CLI_ACTOR)
    return summary, report


@click.command("import-progress")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--notify/--no-notify",
    default=None,
    help="Mail each learner with new awards their claim link (default: SIJIL_NOTIFY_LEARNERS, "
    "on). --no-notify for registrars who send the files themselves.",
)
@cli_errors
def import_progress_command(csv_file: Path, notify: bool | None) -> None:
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
    with runtime() as rt:
        enabled = rt.settings.notify_learners if notify is None else notify
        summary, report = _import(rt, csv_file, notify=enabled)
    for bad in summary.bad_rows:
        click.echo(f"line {bad.line}: {bad.code}: {bad.detail}", err=True)
    issued = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.issued.items())) or "nothing"
    click.echo(
        f"{summary.rows} rows: {summary.recorded} recorded, {summary.unchanged} already known, "
        f"{len(summary.bad_rows)} rejected; issued {issued}"
    )
    if report.sent:
        click.echo(f"mailed {len(report.sent)} learner(s) their claim link")
    for failure in report.failed:
        click.echo(
            f"mail to {failure.learner} failed: {failure.code}: {failure.detail} (retry: "
            f"sijil-issuer claim-link {failure.learner} --send)",
            err=True,
        )
    if summary.bad_rows:
        raise SystemExit(1)


COMMAND = import_progress_command
