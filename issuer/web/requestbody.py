"""Admitting a request's input: JSON body and query string, checked against a JSON Schema.

Each endpoint declares the JSON Schema (2020-12) of its body and query; the same schema is
published in the OpenAPI description (:mod:`issuer.web.openapi`), so what the docs promise is
what the server enforces. Parsing is bounded and strict (size and depth caps, no duplicate keys,
no ``NaN``; :mod:`webplatform.jsonbody`); validation refuses unknown fields when the schema says
``additionalProperties: false``.

Errors (all problem+json, never a 500):
``UNSUPPORTED_MEDIA_TYPE`` (415, body is not ``application/json`` or ``*+json``),
``PARSING_ERROR`` (400, not JSON), ``JSON_TOO_DEEP`` (400), ``REQUEST_TOO_LARGE`` (413),
``MALFORMED_VALUE_ERROR`` (400, a NUL character in a string, path segment or query value),
``REQUEST_VALIDATION_ERROR`` (422 by default, or the endpoint's status; ``pointer`` names the
offending member, ``/query/<name>`` for query parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from contexts.errors import MalformedValueError, SijilError
from webplatform.jsonbody import DEFAULT_MAX_JSON_DEPTH, parse_json_bytes

__all__ = [
    "RequestValidationError",
    "UnsupportedMediaTypeError",
    "is_json_mimetype",
    "parse_query",
    "read_json_body",
    "refuse_nul",
    "validate",
]


class UnsupportedMediaTypeError(SijilError):
    """The request body is not of a media type this endpoint accepts."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"
    http_status = 415


class RequestValidationError(SijilError):
    """The request is well-formed JSON but does not match the endpoint's schema."""

    code = "REQUEST_VALIDATION_ERROR"
    title = "Request does not match the API description"
    http_status = 422

    def __init__(self, detail: str, *, pointer: str | None = None, status: int = 422) -> None:
        super().__init__(detail, pointer=pointer)
        self.status = status

    def to_problem(self) -> dict[str, Any]:
        """The problem document, with the endpoint's chosen status (400 for VC-API routes)."""
        out = super().to_problem()
        out["status"] = self.status
        return out


def is_json_mimetype(mimetype: str) -> bool:
    """``application/json`` or any ``+json`` structured syntax (RFC 6839)."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def refuse_nul(value: Any, pointer: str) -> None:
    """Raise ``MALFORMED_VALUE_ERROR`` for a NUL character in any string of ``value``.

    NUL is never meaningful in our API, and PostgreSQL text cannot hold it: refusing it here
    turns what would be a database error (a 500) into a 400 naming the member.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise MalformedValueError("NUL characters are not allowed", pointer=pointer)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key).replace("~", "~0").replace("/", "~1")
            refuse_nul(key, f"{pointer}/{name}")
            refuse_nul(item, f"{pointer}/{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_nul(item, f"{pointer}/{index}")


def _pointer(path: Any, prefix: str = "") -> str:
    return prefix + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def validate(
    instance: Any, schema: Mapping[str, Any], *, prefix: str = "", status: int = 422
) -> None:
    """Raise ``REQUEST_VALIDATION_ERROR`` when ``instance`` does not match ``schema``.

    The most relevant error is reported (jsonschema's ``best_match``), with its JSON pointer.
    """
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return

    err: ValidationError | None = best_match(errors)
    if err is None:  # pragma: no cover - best_match of a non-empty list is never None
        err = errors[0]
    raise RequestValidationError(
        err.message, pointer=_pointer(err.absolute_path, prefix), status=status
    )


def read_json_body(
    request: Request,
    schema: Mapping[str, Any] | None,
    *,
    max_bytes: int,
    status: int = 422,
) -> Any:
    """Parse and validate the JSON body of ``request``.

    An empty body reads as ``{}`` only when the schema allows it (so ``POST /keys/rotate`` needs
    no body). Raises the codes listed in the module docstring.
    """
    raw = request.get_data(cache=True)
    if not raw and request.mimetype == "":
        body: Any = {}
    else:
        if not is_json_mimetype(request.mimetype):
            raise UnsupportedMediaTypeError(
                f"send the body as application/json, not {request.mimetype or 'no content type'}"
            )
        body = parse_json_bytes(raw, max_bytes=max_bytes, max_depth=DEFAULT_MAX_JSON_DEPTH)
        refuse_nul(body, "")
    if schema is not None:
        validate(body, schema, status=status)
    return body


def _coerce(name: str, raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        text = raw.strip()
        if not (text.lstrip("-").isdigit() and len(text) <= 18):
            raise RequestValidationError(
                f"query parameter {name!r} must be an integer", pointer=f"/query/{name}"
            )
        return int(text)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise RequestValidationError(
                f"query parameter {name!r} must be true or false", pointer=f"/query/{name}"
            )
        return raw == "true"
    return raw


def parse_query(args: Mapping[str, str], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed query parameters, checked against an object schema of scalar properties.

    Unknown parameters are refused when the schema says ``additionalProperties: false``.
    Raises ``REQUEST_VALIDATION_ERROR`` with pointer ``/query/<name>``.
    """
    if schema is None:
        return {}
    properties: Mapping[str, Any] = schema.get("properties", {})
    out: dict[str, Any] = {}
    for name, raw in args.items():
        refuse_nul(raw, f"/query/{name}")
        prop = properties.get(name)
        out[name] = raw if prop is None else _coerce(name, raw, prop)
    validate(out, schema, prefix="/query")
    return out
