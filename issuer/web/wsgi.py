"""The issuer as a module-level WSGI callable, for gunicorn and other WSGI servers.

``gunicorn -c deploy/gunicorn/issuer.py issuer.web.wsgi:app``. Importing this module builds the
app from the ``SIJIL_*`` environment (:meth:`issuer.settings.Settings.from_env`): it opens the
database (migrating it to head under PostgreSQL's advisory lock, a no-op once
``sijil-issuer init`` has run) and the key store, so import it in each worker, never in a
process that forks afterwards (the issuer's gunicorn configuration does not preload).
``gunicorn 'issuer.web:create_app()'`` is the same app.
"""

from __future__ import annotations

from flask import Flask

from issuer.web.app import create_app

__all__ = ["app"]

app: Flask = create_app()
