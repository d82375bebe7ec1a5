"""The issuer's ``GET /metrics``: request metrics plus counts read from the database per scrape.

Issuance figures are not counters kept in worker memory: :class:`DatabaseCollector` counts the
rows at scrape time, so every instance reports the same exact figures, across restarts and
however many workers and instances issued them:

- ``sijil_awards{award_type,status}``: awards by type (COC, COA, MMS) and status (active,
  revoked, suspended, ...);
- ``sijil_status_list_changes{purpose}``: bit changes made to the status lists (each change
  bumps a list's ``version``, which starts at 1);
- ``sijil_status_lists_unsigned{purpose}``: lists whose latest change is not yet re-signed;
- ``sijil_status_entries{purpose}``: status list indices handed out;
- ``sijil_database_up``: 1 when the counts could be read, 0 when the database failed (the
  scrape still answers, with the request metrics).

Access: the route is declared with :func:`issuer.web.endpoint.endpoint` and needs a bearer token
with the ``metrics`` scope (give the Prometheus scraper a token of its own; see
docs/DEPLOYMENT.md), so it is in the OpenAPI description and in the route-table scope test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Final

from flask import Blueprint, Flask, Response
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from issuer.db.faults import DatabaseFaultError
from issuer.db.models import Award, StatusEntry, StatusList
from issuer.services.runtime import Runtime
from issuer.web.endpoint import endpoint, runtime
from webplatform.metrics import instrument_app, metrics_response

__all__ = ["DatabaseCollector", "init_metrics", "issuer_metrics"]

log = logging.getLogger(__name__)

_TEXT: Final[dict[str, Any]] = {"type": "string"}

issuer_metrics = Blueprint("metrics", __name__)


class DatabaseCollector(Collector):
    """Issuance and status-list gauges counted from the database on each scrape."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("sijil_database_up", "1 when the database counts could be read.")
        try:
            families = self._families()
        except (SQLAlchemyError, DatabaseFaultError) as exc:
            log.warning("metrics: database counts unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [*families, up]

    def _families(self) -> list[Metric]:
        awards = GaugeMetricFamily(
            "sijil_awards",
            "Awards in the database, by type and status.",
            labels=["award_type", "status"],
        )
        changes = GaugeMetricFamily(
            "sijil_status_list_changes",
            "Bit changes made to the status lists, by purpose.",
            labels=["purpose"],
        )
        unsigned = GaugeMetricFamily(
            "sijil_status_lists_unsigned",
            "Status lists whose latest change is not yet re-signed, by purpose.",
            labels=["purpose"],
        )
        entries = GaugeMetricFamily(
            "sijil_status_entries",
            "Status list indices handed out, by purpose.",
            labels=["purpose"],
        )
        with self._rt.reading() as session:
            award_rows = session.execute(
                select(Award.award_type, Award.status, func.count()).group_by(
                    Award.award_type, Award.status
                )
            ).all()
            list_rows = session.execute(
                select(
                    StatusList.purpose,
                    func.coalesce(func.sum(StatusList.version - 1), 0),
                    func.count().filter(StatusList.signed_version != StatusList.version),
                ).group_by(StatusList.purpose)
            ).all()
            entry_rows = session.execute(
                select(StatusList.purpose, func.count(StatusEntry.id))
                .join(StatusEntry, StatusEntry.list_id == StatusList.id)
                .group_by(StatusList.purpose)
            ).all()
        for award_type, status, count in award_rows:
            awards.add_metric([str(award_type), str(status)], int(count))
        for purpose, changed, stale in list_rows:
            changes.add_metric([str(purpose)], int(changed))
            unsigned.add_metric([str(purpose)], int(stale))
        for purpose, count in entry_rows:
            entries.add_metric([str(purpose)], int(count))
        return [awards, changes, unsigned, entries]


@issuer_metrics.get("/metrics")
@endpoint(
    "Prometheus metrics",
    scope="metrics",
    tags=("operations",),
    description="Text exposition (Prometheus 0.0.4/1.0.0): HTTP requests and latency of every "
    "worker of this instance, and award and status-list counts read from the database at "
    "scrape time (the same on every instance).",
    responses={200: ("Prometheus text exposition", _TEXT, "text/plain")},
)
def metrics_view() -> Response:
    """Every worker's request metrics plus the database counts."""
    return metrics_response([DatabaseCollector(runtime())])


def init_metrics(app: Flask) -> None:
    """Instrument the issuer ``app`` and serve ``GET /metrics`` (``metrics`` scope) on it."""
    instrument_app(app, service="issuer")
    app.register_blueprint(issuer_metrics)
