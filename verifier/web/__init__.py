"""The verifier's HTTP service: VC-API endpoints, the human QR page, problem+json errors.

``create_app(settings=None)`` is the Flask app factory; ``serve(host, port)`` runs it.
"""

from __future__ import annotations

from .app import create_app, serve

__all__ = ["create_app", "serve"]
