"""The verifier's Flask app factory and a small server entry point.

``create_app(settings)`` wires the JSON API (:mod:`.api`), the human page (:mod:`.pages`),
problem-details error handling (:mod:`.problems`), security headers (:mod:`.security`),
Prometheus metrics at ``GET /metrics`` (:mod:`.metrics`) and request ids (:mod:`.logs`).
Production runs it under gunicorn (``gunicorn -c deploy/gunicorn/verifier.py
verifier.web.wsgi:app``, see docs/DEPLOYMENT.md);
``sijil-verify serve`` calls :func:`serve`.

Request caps (arguments of :func:`create_app`): API bodies and pasted form text up to
``max_body_bytes`` (1 MiB; 413 ``REQUEST_TOO_LARGE``), JSON nesting up to ``max_json_depth``
(64; 400 ``JSON_TOO_DEEP``); uploaded files on the page up to the core's
``SIJIL_MAX_INPUT_BYTES`` (5 MiB).
"""

from __future__ import annotations

import logging

from flask import Flask

from verifier.report import Verifier
from verifier.settings import VerifierSettings
from webplatform.jsonbody import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH
from webplatform.logs import init_request_ids
from webplatform.metrics import init_metrics
from webplatform.problems import register_error_handlers
from webplatform.ratelimit import install_rate_limits
from webplatform.security import apply_security_headers

from . import creditpage as _creditpage  # noqa: F401  (registers /credit-transfer on pages)
from .api import api, load_openapi
from .pages import pages
from .ratelimit import verifier_rate_limits
from .services import VerifierServices

__all__ = ["create_app", "serve"]

log = logging.getLogger(__name__)


def create_app(
    settings: VerifierSettings | None = None,
    *,
    verifier: Verifier | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> Flask:
    """Build the verifier app.

    ``settings`` defaults to the ``SIJIL_*`` environment (:class:`VerifierSettings`);
    ``verifier`` defaults to ``settings.build_verifier()`` (pass one to pin a trust list or a
    fetcher). ``max_body_bytes`` caps API request bodies (413 ``REQUEST_TOO_LARGE``),
    ``max_json_depth`` caps JSON nesting (400 ``JSON_TOO_DEEP``). Raises ``SETTINGS_ERROR``
    and trust-list errors at startup, and ``TRUST_SOURCE_REQUIRED`` when ``SIJIL_ENV=production``
    has no trust source (``SIJIL_TRUST_FILE``) and no ``SIJIL_TRUST_ANY_ISSUER=1``.
    """
    services = VerifierServices.from_settings(
        settings, verifier=verifier, max_json_depth=max_json_depth
    )
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        MAX_CONTENT_LENGTH=max_body_bytes,
        MAX_FORM_MEMORY_SIZE=max_body_bytes,
        MAX_FORM_PARTS=16,
        SIJIL_MAX_JSON_DEPTH=max_json_depth,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["sijil_verifier"] = services
    app.extensions["sijil_openapi"] = load_openapi()
    app.register_blueprint(api)
    app.register_blueprint(pages)
    init_metrics(app, service="verifier")
    init_request_ids(app)
    register_error_handlers(app)
    app.after_request(apply_security_headers)
    install_rate_limits(app, verifier_rate_limits(services.settings))
    return app


def serve(
    host: str = "127.0.0.1", port: int = 8081, settings: VerifierSettings | None = None
) -> None:
    """Run the verifier with Werkzeug's threaded server until interrupted.

    Fine for one machine and the demo; behind a reverse proxy use a WSGI server instead.
    """
    from werkzeug.serving import run_simple

    app = create_app(settings)
    log.info("sijil verifier listening on http://%s:%d/", host, port)
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
