"""Public routes (no token): credentials by id, DID documents, our context, health, the API.

Anyone verifying a credential must be able to fetch what it points at, so these answer without
a token: ``GET /credentials/<id>`` (the stored signed credential, byte for byte),
``/.well-known/did.json`` and ``/issuers/<slug>/did.json`` (did:web documents with every key,
rotated-out ones included), ``/contexts/sijil/v1`` (our pinned JSON-LD context, byte for byte).
They carry ``Access-Control-Allow-Origin: *`` so browser wallets and verifiers can read them.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any, Final

from flask import Blueprint, Response, current_app, request

from contexts.errors import SijilError
from issuer.services.awards import get_award
from issuer.services.issuers import did_document_for_path
from issuer.web.endpoint import endpoint, runtime
from issuer.web.openapi import build_openapi
from issuer.web.readiness import readiness_response

__all__ = ["CREDENTIAL_MEDIA_TYPES", "DID_MEDIA_TYPES", "NotAcceptableError", "public"]

public = Blueprint("public", __name__)

#: Media types a credential is served as, in order of preference when the client accepts any.
CREDENTIAL_MEDIA_TYPES: Final = (
    "application/json",
    "application/vc+ld+json",
    "application/vc",
    "application/ld+json",
)
DID_MEDIA_TYPES: Final = ("application/json", "application/did+json", "application/did+ld+json")
_PUBLIC_CACHE: Final = "public, max-age=60"
_JSON_OBJECT: Final[dict[str, Any]] = {"type": "object"}
_STATUS_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string"}},
}


class NotAcceptableError(SijilError):
    """The client accepts none of the media types a resource is served as."""

    code = "NOT_ACCEPTABLE"
    title = "Not acceptable"
    http_status = 406


def _negotiate(offers: tuple[str, ...]) -> str:
    """The best offer for the request's ``Accept`` (JSON when absent). Raises ``NOT_ACCEPTABLE``."""
    if not request.headers.get("Accept"):
        return offers[0]
    best = request.accept_mimetypes.best_match(offers)
    if best is None:
        raise NotAcceptableError(f"this resource is available as {', '.join(offers)}")
    return best


def _public_document(body: str | bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = _PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response


def _json(value: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(value, ensure_ascii=False), status=status, mimetype="application/json"
    )


@public.get("/")
@endpoint(
    "Service index",
    scope=None,
    public=True,
    tags=("public",),
    responses={
        200: ("Links to the API description and DID document", _JSON_OBJECT, "application/json")
    },
)
def index() -> Response:
    """Where to start: the API description and the default issuer's DID document."""
    return _json(
        {
            "service": "sijil issuer",
            "openapi": "/openapi.json",
            "didDocument": "/.well-known/did.json",
            "context": "/contexts/sijil/v1",
        }
    )


@public.get("/healthz")
@endpoint(
    "Liveness",
    scope=None,
    public=True,
    tags=("public",),
    responses={200: ("The process answers", _STATUS_SCHEMA, "application/json")},
)
def healthz() -> Response:
    """The process is up (no dependencies checked)."""
    return _json({"status": "ok"})


@public.get("/readyz")
@endpoint(
    "Readiness",
    scope=None,
    public=True,
    tags=("public",),
    responses={
        200: ("Database reachable and a default issuer exists", _STATUS_SCHEMA, "application/json"),
        503: ("Not ready", None, "application/problem+json"),
    },
)
def readyz() -> Response:
    """Ready when the database answers, the default issuer exists, every signing key decrypts
    and the clock has not jumped (:mod:`issuer.services.readiness`)."""
    return readiness_response(runtime())


@public.get("/openapi.json")
@endpoint(
    "OpenAPI 3.1 description of this API",
    scope=None,
    public=True,
    tags=("public",),
    responses={200: ("The OpenAPI document", _JSON_OBJECT, "application/json")},
)
def openapi() -> Response:
    """Built from the route table on each call (cheap; always in step with the code)."""
    doc = build_openapi(
        current_app,
        server_url=runtime().settings.base_url,
        version=str(current_app.config["SIJIL_VERSION"]),
    )
    response = _json(doc)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@public.get("/credentials/<award_id>")
@endpoint(
    "A signed credential by its id",
    scope=None,
    public=True,
    tags=("public",),
    description="The stored signed credential, byte for byte as it was signed. `Accept` may ask "
    "for application/vc+ld+json, application/vc or application/ld+json (default "
    "application/json).",
    responses={
        200: ("The signed credential", _JSON_OBJECT, "application/json"),
        406: ("None of the accepted media types", None, "application/problem+json"),
    },
)
def credential(award_id: str) -> Response:
    """Serve ``credential_json`` verbatim (never re-serialized: proofs cover these bytes)."""
    mimetype = _negotiate(CREDENTIAL_MEDIA_TYPES)
    award = get_award(runtime(), award_id)
    return _public_document(award.credential_json.encode("utf-8"), mimetype)


def _did_document(path: str) -> Response:
    mimetype = _negotiate(DID_MEDIA_TYPES)
    doc = did_document_for_path(runtime(), path)
    return _public_document(json.dumps(doc, ensure_ascii=False), mimetype)


@public.get("/.well-known/did.json")
@endpoint(
    "The default issuer's did:web DID document",
    scope=None,
    public=True,
    tags=("public",),
    responses={
        200: (
            "DID document (current key first, retired keys kept)",
            _JSON_OBJECT,
            "application/json",
        )
    },
)
def well_known_did() -> Response:
    """did:web resolution for the DID of ``SIJIL_BASE_URL``."""
    return _did_document("/.well-known/did.json")


@public.get("/issuers/<slug>/did.json")
@endpoint(
    "A named issuer's did:web DID document",
    scope=None,
    public=True,
    tags=("public",),
    responses={
        200: (
            "DID document (current key first, retired keys kept)",
            _JSON_OBJECT,
            "application/json",
        )
    },
)
def issuer_did(slug: str) -> Response:
    """did:web resolution for ``{BASE}/issuers/<slug>``."""
    return _did_document(f"/issuers/{slug}/did.json")


@public.get("/contexts/sijil/v1")
@endpoint(
    "The sijil JSON-LD context (https://w3id.org/sijil/v1)",
    scope=None,
    public=True,
    tags=("public",),
    responses={200: ("The pinned context file", _JSON_OBJECT, "application/ld+json")},
)
def sijil_context() -> Response:
    """The exact bytes pinned in ``contexts/files/sijil-v1.jsonld`` (the sha256 in the manifest)."""
    data = (files("contexts") / "files" / "sijil-v1.jsonld").read_bytes()
    return _public_document(data, "application/ld+json")
