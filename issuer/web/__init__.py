"""The issuer's HTTP API: a Flask app factory over the core services.

``create_app(settings=None, *, runtime=None)`` wires four blueprints (admin, issuing, reading,
public), RFC 9457 problem+json errors (:mod:`.problems`), security headers (:mod:`.security`)
and the OpenAPI 3.1 description at ``/openapi.json`` (:mod:`.openapi`). Every route is declared
with :func:`.endpoint.endpoint` (scope, input schemas, responses). Production runs it under a
WSGI server: ``gunicorn 'issuer.web:create_app()'``.
"""

from __future__ import annotations

from issuer.web.app import create_app

__all__ = ["create_app"]
