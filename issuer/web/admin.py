"""Admin routes (scope ``admin``): issuers and keys, catalogue, learners, tokens, audit log.

Catalogue writes are idempotent upserts by code (``PUT``): the same body twice changes nothing.
Issuers are created with ``POST /issuers`` (a fresh signing key is generated and stored
encrypted) and changed with ``PATCH`` (``suspensionEnabled`` switches the ``suspension`` status
entry of credentials signed from then on); ``POST /issuers/<slug>/keys/rotate`` adds a new key and
keeps the old one published. Nothing is deleted: awards refer to these records for years.
Every write is audited by the core service with the token as actor.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from contexts.errors import MalformedValueError
from issuer.domain.branding import BRAND_JSON_PROPERTIES, brand_changes_from_json
from issuer.domain.jsonforms import (
    learner_from_json,
    micro_credential_from_json,
    micro_credential_to_json,
    programme_from_json,
    programme_to_json,
)
from issuer.services.audit import list_audit
from issuer.services.catalogue import (
    get_learner,
    get_micro_credential,
    get_programme,
    list_learners,
    list_micro_credentials,
    list_programmes,
    upsert_learner,
    upsert_micro_credential,
    upsert_programme,
)
from issuer.services.issuers import (
    IssuerView,
    create_issuer,
    get_issuer,
    issuer_spec_from_json,
    list_issuers,
    rotate_key,
    update_issuer,
)
from issuer.services.status import set_suspension_enabled, suspension_switches
from issuer.services.tokens import SCOPES, create_token, list_tokens, revoke_token
from issuer.web.endpoint import actor, body, endpoint, query, runtime
from keys.dataintegrity import SUITES

__all__ = ["admin"]

admin = Blueprint("admin", __name__)

_JSON: Final = "application/json"
_CODE: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
}
_TEXT: Final[dict[str, Any]] = {"type": "string", "minLength": 1, "maxLength": 300}
_LONG_TEXT: Final[dict[str, Any]] = {"type": "string", "minLength": 1, "maxLength": 5000}
_URL: Final[dict[str, Any]] = {"type": "string", "pattern": "^https?://", "maxLength": 1000}
#: The issuer's profile URL column holds 500 characters.
_ISSUER_URL: Final[dict[str, Any]] = {"type": "string", "pattern": "^https?://", "maxLength": 500}
_KEY_TYPE: Final[dict[str, Any]] = {"enum": ["Ed25519", "P-256", "P-384"]}
_SUITE: Final[dict[str, Any]] = {"enum": list(SUITES)}
_PAGE_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
        "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0},
    },
}

ISSUER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "url": {"type": "string"},
        "email": {"type": "string"},
        "image": {"type": ["string", "null"]},
        "did": {"type": "string"},
        "didMethod": {"enum": ["web", "key"]},
        "cryptosuite": {"type": "string"},
        "keyType": {"type": "string"},
        "isDefault": {"type": "boolean"},
        "verificationMethod": {"type": "string"},
        "verificationMethods": {"type": "array", "items": {"type": "string"}},
        "suspensionEnabled": {"type": "boolean"},
    },
}
ISSUER_CREATE: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slug", "name", "url", "email"],
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
        "name": _TEXT,
        "url": _ISSUER_URL,
        "email": {"type": "string", "minLength": 3, "maxLength": 300},
        "image": {"type": ["string", "null"], "maxLength": 1000},
        "didMethod": {"enum": ["web", "key"]},
        "cryptosuite": _SUITE,
        "keyType": _KEY_TYPE,
        "isDefault": {"type": "boolean"},
        **BRAND_JSON_PROPERTIES,
    },
}
ISSUER_PATCH: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name": _TEXT,
        "url": _ISSUER_URL,
        "email": {"type": "string", "minLength": 3, "maxLength": 300},
        "image": {"type": "string", "maxLength": 1000},
        "cryptosuite": _SUITE,
        **BRAND_JSON_PROPERTIES,
        "suspensionEnabled": {
            "type": "boolean",
            "description": "give credentials signed from now on a suspension status entry",
        },
    },
}
ROTATE: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"keyType": _KEY_TYPE, "activate": {"type": "boolean"}},
}
MICRO_CREDENTIAL: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description", "credits", "mqfLevel", "category"],
    "properties": {
        "code": _CODE,
        "title": _TEXT,
        "description": _LONG_TEXT,
        "credits": {"type": "integer", "minimum": 1, "maximum": 60},
        "sltHours": {"type": "integer", "minimum": 1, "maximum": 10_000},
        "mqfLevel": {"type": "integer", "minimum": 1, "maximum": 8},
        "deliveryMode": {"type": "string", "minLength": 1, "maxLength": 40},
        "category": {"enum": ["programme-based", "stand-alone"]},
        "learningOutcomes": {"type": "array", "maxItems": 100, "items": _LONG_TEXT},
        "materials": {
            "type": "array",
            "maxItems": 500,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "title"],
                "properties": {"code": _CODE, "title": _TEXT},
            },
        },
        "assessments": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "title"],
                "properties": {
                    "code": _CODE,
                    "title": _TEXT,
                    "passMark": {"type": "number", "minimum": 0, "maximum": 100},
                },
            },
        },
        "criteria": {"type": "string", "maxLength": 5000},
        "issuer": {"type": "string", "description": "issuer slug (default issuer when absent)"},
    },
}
PROGRAMME: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description", "mqfLevel", "components"],
    "properties": {
        "code": _CODE,
        "title": _TEXT,
        "description": _LONG_TEXT,
        "mqfLevel": {"type": "integer", "minimum": 1, "maximum": 8},
        "components": {"type": "array", "minItems": 1, "maxItems": 100, "items": _CODE},
        "degreeProgrammeUrl": {"type": ["string", "null"], "pattern": "^https?://"},
        "degreeProgrammeTitle": {"type": ["string", "null"], "maxLength": 300},
        "mmsPerUnit": {"type": "boolean"},
        "issuer": {"type": "string", "description": "issuer slug (default issuer when absent)"},
    },
}
LEARNER: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "name"],
    "properties": {
        "externalId": {"type": "string", "minLength": 1, "maxLength": 128},
        "email": {"type": "string", "minLength": 3, "maxLength": 320},
        "name": _TEXT,
        "did": {"type": ["string", "null"], "pattern": "^did:", "maxLength": 500},
    },
}
TOKEN_CREATE: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["scopes"],
    "properties": {
        "scopes": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": list(SCOPES)},
        },
        "label": {"type": "string", "maxLength": 200},
        "issuer": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
    },
}


def _obj(description: str, schema: dict[str, Any] | None = None) -> tuple[str, dict[str, Any], str]:
    return (description, schema or {"type": "object"}, _JSON)


def _items(description: str, item: dict[str, Any] | None = None) -> tuple[str, dict[str, Any], str]:
    return (description, {"type": "array", "items": item or {"type": "object"}}, _JSON)


def _issuer_json(view: IssuerView, switches: dict[str, bool]) -> dict[str, Any]:
    """The issuer's JSON form with its suspension switch."""
    return {**view.to_dict(), "suspensionEnabled": switches.get(view.slug, True)}


def _with_path_key(data: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    """The body with the path's identifier; a body naming a different one is refused."""
    if key in data and data[key] != value:
        raise MalformedValueError(
            f"{key} in the body differs from the URL ({value!r})", pointer=f"/{key}"
        )
    return {**data, key: value}


# -- issuers and keys ----------------------------------------------------------------------


@admin.get("/issuers")
@endpoint(
    "List issuers",
    scope="admin",
    tags=("admin",),
    responses={200: _items("Issuers", ISSUER_SCHEMA)},
)
def issuers_list() -> ResponseReturnValue:
    """Every issuer, default first."""
    switches = suspension_switches(runtime())
    return jsonify([_issuer_json(v, switches) for v in list_issuers(runtime())])


@admin.post("/issuers")
@endpoint(
    "Create an issuer (did:web or did:key; Ed25519, P-256 or P-384)",
    scope="admin",
    tags=("admin",),
    body=ISSUER_CREATE,
    idempotent=True,
    responses={
        201: _obj("The new issuer", ISSUER_SCHEMA),
        409: ("Slug taken", None, "application/problem+json"),
    },
)
def issuers_create() -> ResponseReturnValue:
    """A fresh signing key is generated and stored encrypted."""
    view = create_issuer(runtime(), issuer_spec_from_json(body()), actor=actor())
    return jsonify(view.to_dict()), 201


@admin.get("/issuers/<slug>")
@endpoint(
    "Get an issuer",
    scope="admin",
    tags=("admin",),
    responses={200: _obj("The issuer", ISSUER_SCHEMA)},
)
def issuers_get(slug: str) -> ResponseReturnValue:
    """One issuer by slug."""
    return jsonify(_issuer_json(get_issuer(runtime(), slug), suspension_switches(runtime())))


@admin.patch("/issuers/<slug>")
@endpoint(
    "Change an issuer's profile, signing suite or suspension switch",
    scope="admin",
    tags=("admin",),
    body=ISSUER_PATCH,
    responses={200: _obj("The issuer", ISSUER_SCHEMA)},
)
def issuers_update(slug: str) -> ResponseReturnValue:
    """Only the given members change; the suite and the suspension switch apply to new
    credentials (issued ones keep the status entries they were signed with)."""
    data = dict(body())
    switch = data.pop("suspensionEnabled", None)
    rt = runtime()
    if data:
        view = update_issuer(
            rt,
            slug,
            actor=actor(),
            name=data.get("name"),
            url=data.get("url"),
            email=data.get("email"),
            image=data.get("image"),
            cryptosuite=data.get("cryptosuite"),
            brand=brand_changes_from_json(data),
        )
    else:
        view = get_issuer(rt, slug)
    if switch is not None:
        set_suspension_enabled(rt, view.slug, bool(switch), actor=actor())
    return jsonify(_issuer_json(view, suspension_switches(rt)))


@admin.post("/issuers/<slug>/keys/rotate")
@endpoint(
    "Stage a new signing key (published; signs after /keys/activate, or at once with activate)",
    scope="admin",
    tags=("admin",),
    body=ROTATE,
    idempotent=True,
    responses={
        200: _obj("The issuer with its new key", ISSUER_SCHEMA),
        409: ("did:key issuers cannot rotate", None, "application/problem+json"),
    },
)
def issuers_rotate(slug: str) -> ResponseReturnValue:
    """Two-step rotation: the staged key is in the DID document at once and signs only once
    activated, so instances that lack its file yet never fail (old keys stay published)."""
    data = body()
    return jsonify(
        rotate_key(
            runtime(),
            slug,
            actor=actor(),
            key_type=data.get("keyType"),
            activate=bool(data.get("activate", False)),
        ).to_dict()
    )


# -- catalogue -----------------------------------------------------------------------------


@admin.get("/micro-credentials")
@endpoint(
    "List micro-credentials",
    scope="admin",
    tags=("catalogue",),
    responses={200: _items("Micro-credentials", MICRO_CREDENTIAL)},
)
def micro_credentials_list() -> ResponseReturnValue:
    """Every micro-credential by code."""
    return jsonify([micro_credential_to_json(s) for s in list_micro_credentials(runtime())])


@admin.get("/micro-credentials/<code>")
@endpoint(
    "Get a micro-credential",
    scope="admin",
    tags=("catalogue",),
    responses={200: _obj("The micro-credential", MICRO_CREDENTIAL)},
)
def micro_credentials_get(code: str) -> ResponseReturnValue:
    """One micro-credential by code."""
    return jsonify(micro_credential_to_json(get_micro_credential(runtime(), code)))


@admin.put("/micro-credentials/<code>")
@endpoint(
    "Create or update a micro-credential",
    scope="admin",
    tags=("catalogue",),
    body=MICRO_CREDENTIAL,
    responses={200: _obj("The micro-credential as stored", MICRO_CREDENTIAL)},
)
def micro_credentials_put(code: str) -> ResponseReturnValue:
    """Idempotent upsert; awards already issued keep their content."""
    data = _with_path_key(body(), "code", code)
    issuer = data.pop("issuer", None)
    spec = micro_credential_from_json(data)
    stored = upsert_micro_credential(runtime(), spec, actor=actor(), issuer=issuer)
    return jsonify(micro_credential_to_json(stored))


@admin.get("/programmes")
@endpoint(
    "List programmes",
    scope="admin",
    tags=("catalogue",),
    responses={200: _items("Programmes", PROGRAMME)},
)
def programmes_list() -> ResponseReturnValue:
    """Every programme by code."""
    return jsonify([programme_to_json(s) for s in list_programmes(runtime())])


@admin.get("/programmes/<code>")
@endpoint(
    "Get a programme",
    scope="admin",
    tags=("catalogue",),
    responses={200: _obj("The programme", PROGRAMME)},
)
def programmes_get(code: str) -> ResponseReturnValue:
    """One programme by code."""
    return jsonify(programme_to_json(get_programme(runtime(), code)))


@admin.put("/programmes/<code>")
@endpoint(
    "Create or update a programme",
    scope="admin",
    tags=("catalogue",),
    body=PROGRAMME,
    responses={
        200: _obj("The programme as stored", PROGRAMME),
        422: (
            "A component is not a programme-based micro-credential",
            None,
            "application/problem+json",
        ),
    },
)
def programmes_put(code: str) -> ResponseReturnValue:
    """Idempotent upsert; components must be programme-based micro-credentials."""
    data = _with_path_key(body(), "code", code)
    issuer = data.pop("issuer", None)
    stored = upsert_programme(runtime(), programme_from_json(data), actor=actor(), issuer=issuer)
    return jsonify(programme_to_json(stored))


# -- learners ------------------------------------------------------------------------------


@admin.get("/learners")
@endpoint(
    "List learners",
    scope="admin",
    tags=("learners",),
    query=_PAGE_QUERY,
    responses={200: _items("Learners", LEARNER)},
)
def learners_list() -> ResponseReturnValue:
    """Learners by student id, paged."""
    q = query()
    rows = list_learners(runtime(), limit=int(q.get("limit", 100)), offset=int(q.get("offset", 0)))
    return jsonify([v.to_dict() for v in rows])


@admin.get("/learners/<external_id>")
@endpoint(
    "Get a learner",
    scope="admin",
    tags=("learners",),
    responses={200: _obj("The learner", LEARNER)},
)
def learners_get(external_id: str) -> ResponseReturnValue:
    """One learner by student id."""
    return jsonify(get_learner(runtime(), external_id).to_dict())


@admin.put("/learners/<external_id>")
@endpoint(
    "Create or update a learner",
    scope="admin",
    tags=("learners",),
    body=LEARNER,
    responses={200: _obj("The learner as stored", LEARNER)},
)
def learners_put(external_id: str) -> ResponseReturnValue:
    """Idempotent upsert; the identity-hash salt is fixed at creation."""
    data = _with_path_key(body(), "externalId", external_id)
    return jsonify(upsert_learner(runtime(), learner_from_json(data), actor=actor()).to_dict())


# -- tokens and audit ----------------------------------------------------------------------


@admin.get("/tokens")
@endpoint(
    "List API tokens (never the secrets)",
    scope="admin",
    tags=("admin",),
    responses={200: _items("Tokens")},
)
def tokens_list() -> ResponseReturnValue:
    """Every token's public facts."""
    return jsonify([t.to_dict() for t in list_tokens(runtime())])


@admin.post("/tokens")
@endpoint(
    "Create an API token",
    scope="admin",
    tags=("admin",),
    body=TOKEN_CREATE,
    responses={201: _obj("The token; `token` is the secret, shown only now")},
)
def tokens_create() -> ResponseReturnValue:
    """Not idempotent on purpose: a replayed answer would hand the secret out again."""
    data = body()
    view, secret = create_token(
        runtime(),
        data["scopes"],
        label=data.get("label", ""),
        actor=actor(),
        issuer=data.get("issuer"),
    )
    return jsonify({**view.to_dict(), "token": secret}), 201


@admin.post("/tokens/<int(max=2147483647):token_id>/revoke")
@endpoint(
    "Revoke an API token",
    scope="admin",
    tags=("admin",),
    responses={200: _obj("The revoked token")},
)
def tokens_revoke(token_id: int) -> ResponseReturnValue:
    """Idempotent; the token stops working at once."""
    return jsonify(revoke_token(runtime(), token_id, actor=actor()).to_dict())


@admin.get("/audit")
@endpoint(
    "Read the audit log (newest first)",
    scope="admin",
    tags=("admin",),
    query={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "action": {"type": "string", "maxLength": 64},
            "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
            "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0},
        },
    },
    responses={200: _items("Audit entries")},
)
def audit_list() -> ResponseReturnValue:
    """Who did what, when."""
    q = query()
    entries = list_audit(
        runtime(),
        action=q.get("action"),
        limit=int(q.get("limit", 100)),
        offset=int(q.get("offset", 0)),
    )
    return jsonify([e.to_dict() for e in entries])
