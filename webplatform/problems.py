"""RFC 9457 problem details for every error the verifier's HTTP API answers.

Every error body is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and a stable ``code`` (the :class:`~contexts.errors.SijilError` code, or one of the
HTTP codes below for errors raised by Werkzeug before a view runs). The human pages (the
``pages`` blueprint) get the same information as an HTML page instead.

Stable codes of this module: ``NOT_FOUND``, ``METHOD_NOT_ALLOWED``, ``REQUEST_TOO_LARGE``,
``UNSUPPORTED_MEDIA_TYPE``, ``BAD_REQUEST``, ``NOT_ACCEPTABLE``, ``INTERNAL_ERROR``.
A 500 carries no detail about the failure (it is logged instead).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from contexts.errors import PROBLEM_TYPE_BASE, SijilError

__all__ = [
    "PROBLEM_JSON",
    "UnsupportedMediaTypeError",
    "problem_body",
    "problem_response",
    "register_error_handlers",
    "wants_html",
]

PROBLEM_JSON = "application/problem+json"

_HTTP_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "REQUEST_TOO_LARGE",
    414: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    431: "REQUEST_TOO_LARGE",
    500: "INTERNAL_ERROR",
}


class UnsupportedMediaTypeError(SijilError):
    """The request body is not JSON (the API accepts ``application/json`` and ``*+json``)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"
    http_status = 415


def problem_body(
    *, code: str, title: str, status: int, detail: str, **extra: Any
) -> dict[str, Any]:
    """A problem details object with our stable ``code`` member."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(body: dict[str, Any], status: int | None = None) -> Response:
    """Serialize a problem body as ``application/problem+json``."""
    return Response(
        json.dumps(body, ensure_ascii=False, sort_keys=False),
        status=status if status is not None else int(body["status"]),
        mimetype=PROBLEM_JSON,
    )


def wants_html() -> bool:
    """Whether to answer the failure as an HTML page: on the human pages, and for unknown
    paths when the client prefers HTML (a browser). The API always answers problem+json."""
    if request.blueprint is not None:
        return request.blueprint == "pages"
    best = request.accept_mimetypes.best_match([PROBLEM_JSON, "application/json", "text/html"])
    return best == "text/html"


def _html_error(status: int, code: str, title: str, detail: str) -> Response:
    html = render_template("error.html", status=status, code=code, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html")


def _handle_sijil_error(err: SijilError) -> Response:
    if wants_html():
        return _html_error(err.http_status, err.code, err.title, err.detail)
    return problem_response(err.to_problem())


def _handle_http_exception(err: HTTPException) -> Response:
    status = err.code or 500
    code = _HTTP_CODES.get(status, "HTTP_ERROR")
    title = err.name
    detail = err.description or title
    if isinstance(err, InternalServerError):
        # Flask has already logged the original exception; never echo it to the client.
        detail = "The server failed while handling this request; it has been logged."
    if wants_html():
        response = _html_error(status, code, title, detail)
    else:
        response = problem_response(
            problem_body(code=code, title=title, status=status, detail=detail)
        )
    for name, value in err.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Route :class:`SijilError` and every HTTP error through problem details (or HTML)."""
    app.register_error_handler(SijilError, _handle_sijil_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
