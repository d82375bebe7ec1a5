"""The OpenAPI 3.1 description of the issuer's API, built from the routes themselves.

Every route in ``app.url_map`` is declared with :func:`issuer.web.endpoint.endpoint`; this
module turns those declarations (scope, schemas, responses) into ``/openapi.json``, so the
description cannot drift from what the server does. A route without a declaration is an error
here, not a silent omission (``UNDESCRIBED_ROUTE``).

Security: one ``bearerAuth`` HTTP scheme; an operation's requirement lists the scope it needs
(OpenAPI 3.1 allows role names for non-OAuth schemes). Errors are ``application/problem+json``
(RFC 9457) with our stable ``code`` member.
"""

from __future__ import annotations

import re
from typing import Any, Final

from flask import Flask

from contexts.errors import SijilError
from issuer.web.endpoint import EndpointSpec, spec_of
from issuer.web.problems import PROBLEM_JSON

__all__ = ["PROBLEM_SCHEMA", "UndescribedRouteError", "build_openapi", "openapi_path"]

_RULE_ARG: Final = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "default": {"type": "string"},
    "string": {"type": "string"},
    "path": {"type": "string"},
    "int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "uuid": {"type": "string", "format": "uuid"},
}

#: A declared media type that says only "some bytes" (a download in one of several formats).
_UNSPECIFIC_MEDIA: Final = frozenset({"application/octet-stream"})
#: Statuses that never carry a body.
_BODYLESS: Final = frozenset({204, 304})

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "description": "RFC 9457 problem details with a stable machine-readable code.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
        "pointer": {"type": "string", "description": "RFC 6901 pointer into the input"},
    },
}


class UndescribedRouteError(SijilError):
    """A route has no endpoint declaration, so the API description would be incomplete."""

    code = "UNDESCRIBED_ROUTE"
    title = "Route without an API description"
    http_status = 500


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A Werkzeug rule (``/awards/<award_id>``) as an OpenAPI path and its path parameters."""
    params: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        converter = match.group("converter") or "default"
        params.append(
            {
                "name": match.group("name"),
                "in": "path",
                "required": True,
                "schema": dict(_CONVERTER_SCHEMAS.get(converter, {"type": "string"})),
            }
        )
        return "{" + match.group("name") + "}"

    return _RULE_ARG.sub(replace, rule), params


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _upload_schema(media: str) -> dict[str, Any]:
    """A non-JSON body: the raw document, or a multipart form with one ``file`` part."""
    if media == "multipart/form-data":
        return {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType": "text/csv"}},
        }
    return {"type": "string", "contentMediaType": media}


def _operation(
    spec: EndpointSpec, method: str, path_params: list[dict[str, Any]]
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": spec.summary, "tags": list(spec.tags)}
    if spec.description:
        op["description"] = spec.description
    params = list(path_params)
    if spec.query is not None:
        required = set(spec.query.get("required", ()))
        for name, schema in spec.query.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    if spec.idempotent and method == "post":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Replaying a request with the same key returns the first answer.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": dict(spec.body)}},
        }
    elif spec.request_media:
        op["requestBody"] = {
            "required": True,
            "content": {media: {"schema": _upload_schema(media)} for media in spec.request_media},
        }
    responses: dict[str, Any] = {}
    for status, (description, schema, media) in sorted(spec.responses.items()):
        entry: dict[str, Any] = {"description": description}
        if schema is not None:
            entry["content"] = {media: {"schema": dict(schema)}}
        elif media == PROBLEM_JSON:
            entry["content"] = {media: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        elif media and media not in _UNSPECIFIC_MEDIA and status not in _BODYLESS:
            # A page or stylesheet: the media type is the contract, there is no JSON schema.
            entry["content"] = {media: {}}
        responses[str(status)] = entry
    if spec.scope is not None:
        op["security"] = [{"bearerAuth": [spec.scope]}]
        responses["401"] = _problem("Missing, malformed, unknown or revoked token")
        responses["403"] = _problem(f"The token lacks the {spec.scope!r} scope")
    else:
        op["security"] = []
    if spec.body is not None or spec.request_media or spec.query is not None:
        responses.setdefault("400", _problem("Unparseable input"))
        responses.setdefault("413", _problem("Request body too large"))
        responses.setdefault("415", _problem("Unsupported media type"))
        responses.setdefault(str(spec.invalid_status), _problem("Input does not match the schema"))
    if path_params:
        responses.setdefault("404", _problem("No such resource"))
    responses["default"] = _problem("Any other error")
    op["responses"] = responses
    return op


def build_openapi(app: Flask, *, server_url: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every route of ``app``.

    Raises ``UNDESCRIBED_ROUTE`` for a route whose view has no endpoint declaration.
    """
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        spec = spec_of(view)
        if spec is None and hasattr(view, "__console_permission__"):
            continue  # staff console pages (HTML, signed-in sessions) are not part of the API
        if spec is None:
            raise UndescribedRouteError(f"route {rule.rule} ({rule.endpoint}) is not declared")
        path, path_params = openapi_path(rule.rule)
        item = paths.setdefault(path, {})
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if len(methods) != 1:
            # One declaration describes one operation: a view per method keeps schemas honest.
            raise UndescribedRouteError(f"route {rule.rule} ({rule.endpoint}) has {methods}")
        op = _operation(spec, methods[0].lower(), path_params)
        op["operationId"] = rule.endpoint.replace(".", "_")
        item[methods[0].lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sijil issuer API",
            "version": version,
            "description": (
                "Issue verifiable micro-credential awards (COC, COA, MMS) and sign credentials "
                "(VC-API). Errors are RFC 9457 problem+json with a stable `code`."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API token from `sijil-issuer tokens create --scope SCOPE`; "
                    "scopes admin (implies all), issue, read.",
                }
            },
        },
    }
