"""RFC 9457 problem details for every error the issuer's HTTP API answers.

Every error body is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and a stable ``code``: the :class:`~contexts.errors.SijilError` code, or for errors
Werkzeug raises before a view runs one of ``BAD_REQUEST``, ``NOT_FOUND``, ``METHOD_NOT_ALLOWED``,
``NOT_ACCEPTABLE``, ``REQUEST_TOO_LARGE``, ``UNSUPPORTED_MEDIA_TYPE``, ``INTERNAL_ERROR``.
A 500 carries no detail about the failure (Flask logs it); bad input never reaches a 500
because every parser raises a :class:`SijilError`.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, InternalServerError

from contexts.errors import SijilError
from issuer.web.auth import challenge

# One problem+json shape for both services: the verifier's web layer owns it.
from webplatform.problems import PROBLEM_JSON, problem_body, problem_response

__all__ = [
    "PROBLEM_JSON",
    "problem_body",
    "problem_response",
    "register_error_handlers",
]

_HTTP_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    411: "LENGTH_REQUIRED",
    413: "REQUEST_TOO_LARGE",
    414: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    431: "REQUEST_TOO_LARGE",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def _handle_sijil_error(err: SijilError) -> Response:
    body = err.to_problem()
    response = problem_response(body)
    if response.status_code in (401, 403):
        response.headers["WWW-Authenticate"] = challenge(
            response.status_code,
            token_sent=bool(request.headers.get("Authorization")),
            scope=g.get("required_scope"),
        )
    return response


def _handle_http_exception(err: HTTPException) -> Response:
    status = err.code or 500
    code = _HTTP_CODES.get(status, "HTTP_ERROR")
    detail = err.description or err.name
    if isinstance(err, InternalServerError):
        detail = "The server failed while handling this request; it has been logged."
    response = problem_response(
        problem_body(code=code, title=err.name, status=status, detail=detail)
    )
    for name, value in err.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Route :class:`SijilError` and every HTTP error through problem details."""
    app.register_error_handler(SijilError, _handle_sijil_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
