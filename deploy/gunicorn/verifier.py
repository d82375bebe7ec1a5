"""gunicorn configuration of the sijil verifier (stateless; no database, no keys).

    gunicorn -c deploy/gunicorn/verifier.py verifier.web.wsgi:app

Listens on ``SIJIL_BIND`` (default ``0.0.0.0:8081``); the other knobs are in ``common.py``.
The app is preloaded in the master (it opens no connection) and forked into the workers, so
they share the parsed contexts and schemas. Each worker keeps its own key and status-list
caches. Metrics: ``GET /metrics`` sums all workers (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import runpy
from pathlib import Path

_common = runpy.run_path(str(Path(__file__).with_name("common.py")))
globals().update(
    _common["gunicorn_config"](
        proc_name="sijil-verifier", default_port=8081, default_timeout=30, preload=True
    )
)
