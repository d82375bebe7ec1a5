"""``GET /readyz``: the readiness answer of :mod:`issuer.services.readiness` over HTTP.

200 ``{"status": "ready" | "degraded", "checks": {...}, "warnings": [...]}`` while the instance
can serve; 503 ``application/problem+json`` with code ``NOT_READY``, the failed checks in
``detail`` and every check in ``checks`` when it cannot.
"""

from __future__ import annotations

import json

from flask import Response

from issuer.services.readiness import check_readiness
from issuer.services.runtime import Runtime
from issuer.web.problems import problem_body, problem_response

__all__ = ["readiness_response"]


def readiness_response(rt: Runtime) -> Response:
    """The ``/readyz`` response for ``rt`` (never cached)."""
    readiness = check_readiness(rt)
    if readiness.status == "not_ready":
        response = problem_response(
            problem_body(
                code="NOT_READY",
                title="Service not ready",
                status=503,
                detail=readiness.detail,
                checks=readiness.to_dict()["checks"],
                warnings=list(readiness.warnings),
            )
        )
    else:
        response = Response(
            json.dumps(readiness.to_dict(), ensure_ascii=False), mimetype="application/json"
        )
    response.headers["Cache-Control"] = "no-store"
    return response
