"""``sijil-issuer serve``: run the issuer API (dev server; gunicorn in production)."""

from __future__ import annotations

import click
from werkzeug.serving import run_simple

from issuer.commands.shell import cli_errors
from issuer.settings import Settings

__all__ = ["COMMAND"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@cli_errors
def serve(host: str, port: int) -> None:
    """Serve the issuer API under the instance's base URL (stored by ``init``).

    Refuses to start without its secrets unless ``SIJIL_ENV=development`` (``INSECURE_SETTINGS``).
    Production deployments run ``gunicorn -c deploy/gunicorn/issuer.py issuer.web.wsgi:app``.
    """
    from issuer.web import create_app  # the web stack loads only for this command
    from webplatform.logs import configure_logging, log_format_from_env, log_level_from_env

    configure_logging(log_format_from_env(default="text"), log_level_from_env())
    app = create_app(Settings.from_env(port=port))
    click.echo(f"issuer listening on http://{host}:{port}/ (OpenAPI: /openapi.json)")
    from issuer.delivery.notify import mail_worker  # the outbox worker: learner mail
    from issuer.web.endpoint import RUNTIME_EXTENSION

    with mail_worker(app.extensions[RUNTIME_EXTENSION]):
        run_simple(host, port, app, threaded=True)


COMMAND = serve
