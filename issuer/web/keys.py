"""Signing-key lifecycle routes (scope ``admin``): list, activate, retire.

``POST /issuers/<slug>/keys/rotate`` (in :mod:`issuer.web.admin`) stages a key;
``POST /issuers/<slug>/keys/activate`` switches signing to it once every instance holds the key
file (each instance's ``GET /issuers/<slug>/keys`` says whether *its* key store holds each key);
``POST /issuers/<slug>/keys/retire`` withdraws a key from the DID document and reports (with
``revokeSigned``, revokes) the awards it signed.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from issuer.services.keylifecycle import activate_key, list_keys, retire_key
from issuer.web.endpoint import actor, body, endpoint, runtime

__all__ = ["keys"]

keys = Blueprint("keys", __name__)

_JSON: Final = "application/json"
_PROBLEM: Final = "application/problem+json"
_OBJECT: Final[dict[str, Any]] = {"type": "object"}
_KEY_ID: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 700,
    "description": "verification method id, or its #fragment",
}
ACTIVATE: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"key": _KEY_ID},
}
RETIRE: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key"],
    "properties": {
        "key": _KEY_ID,
        "revokeSigned": {"type": "boolean"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
}


@keys.get("/issuers/<slug>/keys")
@endpoint(
    "List an issuer's keys with their state and whether this instance holds each",
    scope="admin",
    tags=("admin",),
    responses={200: ("The keys, newest first", {"type": "array", "items": _OBJECT}, _JSON)},
)
def keys_list(slug: str) -> ResponseReturnValue:
    """States: staged, active, previous (still published), retired (withdrawn)."""
    return jsonify([k.to_dict() for k in list_keys(runtime(), slug)])


@keys.post("/issuers/<slug>/keys/activate")
@endpoint(
    "Sign with a staged key from now on (default: the newest staged key)",
    scope="admin",
    tags=("admin",),
    body=ACTIVATE,
    idempotent=True,
    responses={
        200: ("The issuer, signing with the key", _OBJECT, _JSON),
        404: ("No such issuer or key, or nothing staged", None, _PROBLEM),
        409: ("The key is retired", None, _PROBLEM),
    },
)
def keys_activate(slug: str) -> ResponseReturnValue:
    """Run once every instance's key store holds the key file."""
    key = body().get("key")
    return jsonify(activate_key(runtime(), slug, key, actor=actor()).to_dict())


@keys.post("/issuers/<slug>/keys/retire")
@endpoint(
    "Withdraw a key from the DID document; report (optionally revoke) what it signed",
    scope="admin",
    tags=("admin",),
    body=RETIRE,
    idempotent=True,
    responses={
        200: ("What was retired, signed and revoked", _OBJECT, _JSON),
        404: ("No such issuer or key", None, _PROBLEM),
        409: ("The key is the active one, or this instance still signs with it", None, _PROBLEM),
    },
)
def keys_retire(slug: str) -> ResponseReturnValue:
    """Proofs naming a retired key stop verifying; ``revokeSigned`` revokes those awards so
    each can be re-issued (``POST /awards/<id>/reissue``) with the active key."""
    data = body()
    outcome = retire_key(
        runtime(),
        slug,
        data["key"],
        actor=actor(),
        revoke_signed=bool(data.get("revokeSigned", False)),
        reason=data.get("reason"),
    )
    return jsonify(outcome.to_dict())
