"""``sijil-issuer import-progress FILE.csv``: bulk progress from an LMS export.

Columns: see :mod:`issuer.domain.progress` (``learner_id, micro_credential, event, item`` required;
``score, grade, occurred_at, learner_email, learner_name, learner_did`` optional).

Every learner who received new awards gets one claim-link mail: the award's transaction queues
it in the outbox, and at the end the command delivers its own batch (SMTP from ``SIJIL_SMTP_*``,
in development the ``<instance>/outbox`` folder) with a bounded wait: each SMTP wait is capped at
``--mail-wait`` seconds and the first failure stops delivery, so a hung or refusing mail server
never holds the import; what is left stays queued for ``sijil-issuer outbox work`` (or a serving
instance's worker). ``--no-notify`` or ``SIJIL_NOTIFY_LEARNERS=0``: no mail is queued.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click._termui_impl import ProgressBar

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.delivery.mail import Mailer, mailer_for
from issuer.delivery.notify import NotificationReport, deliver_learner_mail
from issuer.services.csvimport import ImportSummary, import_progress
from issuer.services.runtime import Runtime

__all__ = ["COMMAND"]


def _count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


def _import(rt: Runtime, csv_file: Path, *, notify: bool) -> ImportSummary:
    bar: ProgressBar[int]
    with click.progressbar(length=_count_rows(csv_file), label="importing", file=sys.stderr) as bar:

        def advance(rows: int) -> None:
            bar.update(rows)

        return import_progress(rt, csv_file, actor=CLI_ACTOR, on_progress=advance, notify=notify)


def _deliver(rt: Runtime, batch: str, *, wait: float) -> NotificationReport:
    def mailer() -> Mailer:
        return mailer_for(rt.settings)

    return deliver_learner_mail(rt, mailer=mailer, batch=batch, wait=wait)


def _echo_mail(report: NotificationReport) -> None:
    if report.sent:
        click.echo(f"mailed {len(report.sent)} learner(s) their claim link")
    for failure in report.failed:
        click.echo(f"mail to {failure.learner} failed: {failure.code}: {failure.detail}", err=True)
    if report.queued:
        click.echo(
            f"{report.queued} claim-link mail(s) queued: `sijil-issuer outbox work` (or a serving "
            "instance) delivers them when the mail server answers",
            err=True,
        )


@click.command("import-progress")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--notify/--no-notify",
    default=None,
    help="Mail each learner with new awards their claim link (default: SIJIL_NOTIFY_LEARNERS, "
    "on). --no-notify for registrars who send the files themselves.",
)
@click.option(
    "--mail-wait",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    help="Longest wait for the mail server (seconds) before leaving the mail to the outbox "
    "worker; 0 queues it without trying.",
)
@cli_errors
def import_progress_command(csv_file: Path, notify: bool | None, mail_wait: float) -> None:
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
        summary = _import(rt, csv_file, notify=enabled)
        report = NotificationReport()
        if enabled and summary.batch is not None and summary.awards:
            if mail_wait > 0:
                report = _deliver(rt, summary.batch, wait=mail_wait)
            else:
                report = NotificationReport(queued=len({a.learner for a in summary.awards}))
    for bad in summary.bad_rows:
        click.echo(f"line {bad.line}: {bad.code}: {bad.detail}", err=True)
    issued = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.issued.items())) or "nothing"
    click.echo(
        f"{summary.rows} rows: {summary.recorded} recorded, {summary.unchanged} already known, "
        f"{len(summary.bad_rows)} rejected; issued {issued}"
    )
    _echo_mail(report)
    if summary.bad_rows:
        raise SystemExit(1)


COMMAND = import_progress_command
