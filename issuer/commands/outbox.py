"""``sijil-issuer outbox``: run the outbox worker, see what is queued.

``outbox work`` delivers outbox events (learner mail today) until SIGTERM / Ctrl-C: the
production worker, run as a service of its own beside the web workers (any number of them:
leases and ``SKIP LOCKED`` keep them from delivering one event twice). ``--once`` delivers what is
due now and exits (cron, or after a mail-server outage). ``outbox status`` counts pending, done
and given-up events.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.delivery.mail import Mailer, mailer_for
from issuer.delivery.notify import LearnerMail
from issuer.outbox.worker import CircuitBreaker, DeliveryReport, deliver_pending, outbox_counts

__all__ = ["COMMANDS"]


@click.group("outbox")
def outbox() -> None:
    """The transactional outbox: domain events and their delivery (learner mail)."""


@outbox.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--interval",
    type=click.FloatRange(0.1),
    default=2.0,
    show_default=True,
    help="Seconds between passes when nothing is due.",
)
@click.option(
    "--limit", type=click.IntRange(1), default=100, show_default=True, help="Events per pass."
)
@cli_errors
def work(once: bool, interval: float, limit: int) -> None:
    """Deliver outbox events until stopped (SIGTERM or Ctrl-C finish the current event)."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    totals = DeliveryReport()
    try:
        with runtime() as rt:

            def mailer() -> Mailer:
                return mailer_for(rt.settings)

            subscribers = [LearnerMail(mailer)]
            breakers: dict[str, CircuitBreaker] = {}
            while not stop.is_set():
                report = deliver_pending(rt, subscribers, limit=limit, breakers=breakers)
                for name in ("delivered", "retrying", "dead", "deferred"):
                    getattr(totals, name).extend(getattr(report, name))
                if report.claimed:
                    continue
                if once:
                    break
                stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    counts = totals.to_dict()
    click.echo(
        f"delivered {counts['delivered']}, retrying {counts['retrying']}, gave up on "
        f"{counts['dead']}, deferred {counts['deferred']} (circuit open)"
    )


@outbox.command("status")
@cli_errors
def status() -> None:
    """Count pending, delivered and given-up events."""
    with runtime() as rt:
        counts = outbox_counts(rt)
    click.echo(f"pending {counts['pending']}, done {counts['done']}, gave up {counts['dead']}")


COMMANDS = (outbox,)
