"""Prometheus metrics shared by both services: request counts, latency, exposition.

Metrics (text exposition at ``GET /metrics``):

- ``sijil_http_requests_total{service,method,endpoint,status}``: requests answered, by route
  rule (``/credentials/<award_id>``, never the raw path, so ids cannot blow up the series;
  ``<unmatched>`` for a 404 no route matched);
- ``sijil_http_request_duration_seconds{service,method,endpoint}``: latency histogram;
- the services add their own: the verifier's ``sijil_verifications_total{channel,verdict}``
  (:mod:`verifier.web.metrics`), the issuer's database gauges (:mod:`issuer.web.metrics`).

Under gunicorn with several workers each worker keeps its own values; prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set before this module is imported; the
gunicorn configurations in ``deploy/gunicorn`` do it) writes them to files that
:func:`metrics_response` sums on every scrape, and :func:`mark_worker_dead` (gunicorn's
``child_exit`` hook) retires a dead worker's files. Without the variable the process's own
registry is exposed (the dev server, tests).

:func:`init_metrics` wires it all into the verifier (``/metrics``, public: nothing in it is
secret); the issuer calls :func:`instrument_app` and serves :func:`metrics_response` behind its
own token check, adding its database collector.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from time import perf_counter
from typing import Final

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "MULTIPROC_ENV",
    "UNMATCHED_ENDPOINT",
    "init_metrics",
    "instrument_app",
    "mark_worker_dead",
    "metrics",
    "metrics_response",
    "multiprocess_dir",
    "reset_multiprocess_dir",
]

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ENDPOINT: Final = "<unmatched>"
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_START: Final = "_sijil_metrics_start"
_SERVICE: Final = "sijil.metrics.service"
#: Latency buckets (seconds): sub-millisecond reads up to a 10,000-row CSV import.
_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

HTTP_REQUESTS: Final = Counter(
    "sijil_http_requests",
    "HTTP requests answered, by route rule and status.",
    ["service", "method", "endpoint", "status"],
)
HTTP_LATENCY: Final = Histogram(
    "sijil_http_request_duration_seconds",
    "Time from the first request hook to the response, by route rule.",
    ["service", "method", "endpoint"],
    buckets=_BUCKETS,
)


def multiprocess_dir() -> Path | None:
    """The multiprocess directory when ``PROMETHEUS_MULTIPROC_DIR`` is set, else ``None``."""
    value = os.environ.get(MULTIPROC_ENV, "").strip()
    return Path(value) if value else None


def reset_multiprocess_dir(path: Path) -> None:
    """Create ``path`` and delete the metric files in it (gunicorn's ``on_starting``).

    Files left by a previous run would add its counts to this one's. Only prometheus_client's
    ``*.db`` files are removed, nothing else in the folder.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def mark_worker_dead(pid: int) -> None:
    """Retire a dead worker's live-gauge files (gunicorn's ``child_exit`` hook)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _start_timer() -> ResponseReturnValue | None:
    g.setdefault(_START, perf_counter())
    return None


def _observe(response: Response) -> Response:
    started = g.get(_START)
    elapsed = perf_counter() - started if isinstance(started, float) else 0.0
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else UNMATCHED_ENDPOINT
    method = request.method if request.method in _METHODS else "OTHER"
    service = str(current_app.extensions.get(_SERVICE, "sijil"))
    HTTP_REQUESTS.labels(
        service=service, method=method, endpoint=endpoint, status=str(response.status_code)
    ).inc()
    HTTP_LATENCY.labels(service=service, method=method, endpoint=endpoint).observe(elapsed)
    return response


def instrument_app(app: Flask, *, service: str) -> None:
    """Count and time every request of ``app`` under ``service`` (``issuer``/``verifier``).

    The timer starts in the first ``before_request`` function, so requests refused early
    (rate limits, authentication) are counted and timed too.
    """
    app.extensions[_SERVICE] = service
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)


class _ProcessMetrics(Collector):
    """This process's default registry, for the single-process exposition."""

    def collect(self) -> Iterable[Metric]:
        return PROCESS_REGISTRY.collect()


def metrics_response(collectors: Sequence[Collector] = ()) -> Response:
    """The text exposition of every worker's metrics plus ``collectors`` (read per scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir() is not None:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessMetrics())
    for collector in collectors:
        registry.register(collector)
    response = Response(generate_latest(registry), status=200)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


metrics = Blueprint("metrics", __name__)


@metrics.get("/metrics")
def metrics_view() -> Response:
    """Prometheus scrape endpoint of a public service (counts and latencies only)."""
    return metrics_response()


def init_metrics(app: Flask, *, service: str = "verifier") -> None:
    """Instrument ``app`` and serve a public ``GET /metrics`` on it (the verifier's one call;
    the issuer serves :func:`metrics_response` behind a token instead)."""
    instrument_app(app, service=service)
    app.register_blueprint(metrics)
