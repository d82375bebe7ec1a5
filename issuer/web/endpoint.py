"""The one door every API request goes through: declared scope, checked input, described route.

A view is declared with :func:`endpoint`, which records an :class:`EndpointSpec` on the view
function and wraps it so that, before the view runs:

1. the bearer token is checked for the endpoint's scope (``None`` means public; there is no
   default, so a route nobody thought about cannot be reached without a decision);
2. the query string and the JSON body are parsed and validated against the endpoint's schemas;
3. a POST carrying ``Idempotency-Key`` is answered from the stored response when it is a replay.

The same spec feeds the OpenAPI description (:mod:`issuer.web.openapi`), and the test suite
walks ``app.url_map`` to check that every route has one. Views then read :func:`body`,
:func:`query` and :func:`principal`, call one service function and render its result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Final, TypeVar, cast

from flask import current_app, g, request
from flask.typing import ResponseReturnValue

from issuer.services.runtime import Runtime
from issuer.services.tokens import Scope, TokenView
from issuer.web.auth import authenticate
from issuer.web.idempotency import replay_or_run
from issuer.web.requestbody import parse_query, read_json_body, refuse_nul

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "SPEC_ATTRIBUTE",
    "EndpointSpec",
    "actor",
    "body",
    "endpoint",
    "principal",
    "query",
    "runtime",
    "spec_of",
]

#: Largest JSON body the API reads (1 MiB): a progress batch or a credential to sign.
DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
SPEC_ATTRIBUTE: Final = "__sijil_endpoint__"
RUNTIME_EXTENSION: Final = "sijil.runtime"

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


@dataclass(frozen=True)
class EndpointSpec:
    """What an endpoint needs and promises; read by the wrapper and by the OpenAPI builder.

    ``scope``: the token scope it needs, ``None`` for a public endpoint (``public=True`` must
    then be said explicitly). ``body``/``query``: JSON Schemas of the input. ``responses``:
    status -> (description, schema or ``None``, media type). ``idempotent``: POST honours
    ``Idempotency-Key``. ``invalid_status``: status of a schema violation (VC-API says 400).
    ``request_media``: accepted body media types when the body is not JSON (CSV upload).
    """

    summary: str
    scope: Scope | None
    tags: tuple[str, ...]
    description: str = ""
    body: Mapping[str, Any] | None = None
    query: Mapping[str, Any] | None = None
    responses: Mapping[int, tuple[str, Mapping[str, Any] | None, str]] = field(default_factory=dict)
    idempotent: bool = False
    invalid_status: int = 422
    max_bytes: int = DEFAULT_MAX_BODY_BYTES
    request_media: tuple[str, ...] = ()


def spec_of(view: Callable[..., Any]) -> EndpointSpec | None:
    """The spec recorded on a view function (``None`` for an undeclared route)."""
    spec = getattr(view, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, EndpointSpec) else None


def runtime() -> Runtime:
    """The issuer runtime of the current app."""
    return cast(Runtime, current_app.extensions[RUNTIME_EXTENSION])


def principal() -> TokenView:
    """The authenticated token of this request (only in endpoints with a scope)."""
    return cast(TokenView, g.principal)


def actor() -> str:
    """How the audit log names the caller (``token:<id>``)."""
    return principal().principal


def body() -> Any:
    """The validated JSON body."""
    return g.body


def query() -> dict[str, Any]:
    """The validated, typed query parameters."""
    return cast(dict[str, Any], g.query)


def endpoint(
    summary: str,
    *,
    scope: Scope | None,
    public: bool = False,
    tags: tuple[str, ...] = (),
    description: str = "",
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    responses: Mapping[int, tuple[str, Mapping[str, Any] | None, str]] | None = None,
    idempotent: bool = False,
    invalid_status: int = 422,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    request_media: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Declare a view's scope, input schemas and responses (see :class:`EndpointSpec`).

    ``scope=None`` requires ``public=True``: being public is a decision, never a default.
    """
    if scope is None and not public:
        raise ValueError(f"endpoint {summary!r}: give a scope or say public=True")
    spec = EndpointSpec(
        summary=summary,
        scope=scope,
        tags=tags,
        description=description,
        body=body,
        query=query,
        responses=dict(responses or {}),
        idempotent=idempotent,
        invalid_status=invalid_status,
        max_bytes=max_bytes,
        request_media=request_media,
    )

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            g.required_scope = spec.scope
            request.max_content_length = spec.max_bytes
            if spec.scope is not None:
                g.principal = authenticate(
                    runtime(), request.headers.get("Authorization"), spec.scope
                )
            for name, value in kwargs.items():
                refuse_nul(value, f"/path/{name}")
            g.query = parse_query(request.args, spec.query)
            if spec.body is not None:
                g.body = read_json_body(
                    request, spec.body, max_bytes=spec.max_bytes, status=spec.invalid_status
                )
            if spec.idempotent and request.method == "POST":
                who = g.principal.principal if spec.scope is not None else "public"
                return replay_or_run(runtime(), who, lambda: view(*args, **kwargs))
            return view(*args, **kwargs)

        setattr(wrapper, SPEC_ATTRIBUTE, spec)
        return cast(F, wrapper)

    return decorate
