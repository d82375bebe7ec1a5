"""The issuer app factory (see :mod:`issuer.web`)."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Final

from flask import Flask

from issuer.services.bootstrap import open_runtime
from issuer.services.runtime import Runtime
from issuer.settings import Settings
from issuer.web.admin import admin
from issuer.web.branding import branding
from issuer.web.console import console
from issuer.web.endpoint import RUNTIME_EXTENSION
from issuer.web.issuing import issuing
from issuer.web.keys import keys
from issuer.web.learner import learner
from issuer.web.metrics import init_metrics
from issuer.web.problems import register_error_handlers
from issuer.web.public import public
from issuer.web.ratelimit import issuer_rate_limits
from issuer.web.reading import reading
from issuer.web.security import apply_security_headers
from issuer.web.status import status
from issuer.web.vocab import vocab
from issuer.web.wallet import wallet
from webplatform.logs import init_request_ids
from webplatform.ratelimit import install_rate_limits

__all__ = ["MAX_REQUEST_BYTES", "create_app"]

log = logging.getLogger(__name__)

#: Hard cap on any request body (the CSV upload is the largest; JSON endpoints cap at 1 MiB).
MAX_REQUEST_BYTES: Final = 16 * 1024 * 1024


def _version() -> str:
    try:
        return version("sijil")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the issuer app.

    ``runtime`` (tests, the dev server) is used as is; otherwise one is opened for ``settings``
    (default: :meth:`Settings.from_env`), migrating the database to head, with status lists on.
    """
    if runtime is None:
        runtime = open_runtime(settings or Settings.from_env(), status_lists=True)
    app = Flask(__name__, static_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        MAX_FORM_PARTS=8,
        SECRET_KEY=runtime.settings.secret_key,
        SIJIL_VERSION=_version(),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = True
    app.extensions[RUNTIME_EXTENSION] = runtime
    for blueprint in (public, reading, issuing, admin, keys, status, learner, vocab, wallet):
        app.register_blueprint(blueprint)
    app.register_blueprint(console)  # the staff console at /console/
    app.register_blueprint(branding)  # issuer logos and brand stylesheets
    init_metrics(app)
    init_request_ids(app)
    register_error_handlers(app)
    app.after_request(apply_security_headers)
    install_rate_limits(app, issuer_rate_limits(runtime.settings))
    if runtime.settings.dev_defaults:
        log.warning(
            "issuer API using development defaults for %s", ", ".join(runtime.settings.dev_defaults)
        )
    return app
