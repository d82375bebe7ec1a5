"""gunicorn configuration of the sijil issuer (stateless: state is in PostgreSQL and the key store).

    gunicorn -c deploy/gunicorn/issuer.py issuer.web.wsgi:app

Listens on ``SIJIL_BIND`` (default ``0.0.0.0:8000``); the other knobs are in ``common.py``.
Not preloaded: each worker opens its own database pool and key store after the fork (a
connection shared across fork corrupts both sides' protocol state). Each worker checks the
schema is at head on start (serialized by PostgreSQL's advisory lock; run ``sijil-issuer init``
once before rolling out new code). ``timeout`` is 120 s for a 10,000-row CSV import.
"""

from __future__ import annotations

import runpy
from pathlib import Path

_common = runpy.run_path(str(Path(__file__).with_name("common.py")))
globals().update(
    _common["gunicorn_config"](
        proc_name="sijil-issuer", default_port=8000, default_timeout=120, preload=False
    )
)
