"""The verifier as a module-level WSGI callable, for gunicorn and other WSGI servers.

``gunicorn -c deploy/gunicorn/verifier.py verifier.web.wsgi:app``. Importing this module builds
the app from the ``SIJIL_*`` environment (:class:`verifier.settings.VerifierSettings`); it opens
no connection, so the verifier's gunicorn configuration preloads it once in the master.
``gunicorn 'verifier.web:create_app()'`` is the same app.
"""

from __future__ import annotations

from flask import Flask

from .app import create_app

__all__ = ["app"]

app: Flask = create_app()
