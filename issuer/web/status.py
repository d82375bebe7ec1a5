"""Status list routes: the public signed lists, revoke / suspend / unsuspend and re-issue
(scope ``admin``).

``GET /status/<id>`` serves the stored signed ``BitstringStatusListCredential`` bytes verbatim
(public, no token: verifiers fetch it without saying which credential they check), with a
strong ``ETag`` (SHA-256 of the bytes), ``Cache-Control: public, max-age=60`` and ``304`` on a
matching ``If-None-Match``. The admin operations call :func:`issuer.services.status.change_status`
(all-or-none, audited, lists re-signed before commit); each change lists the MMS awards that
embed the award (``stackedIn``) and those now offered for re-issue (``reissue``).

VC-API ``POST /credentials/status`` (scope ``issue``) sets or clears the revocation / suspension
bit of a credential signed through ``POST /credentials/issue``, named by its ``id``:
``{"credentialId", "credentialStatus": [{"type": "BitstringStatusListEntry", "status": true,
"statusPurpose": "revocation"}]}`` -> 200 (404 for a credential not issued through the VC-API,
409 ``STATUS_TRANSITION_NOT_ALLOWED``); see :mod:`issuer.services.vcapi`.

``POST /awards/<id>/reissue`` (:func:`issuer.services.reissue.reissue`) answers 201 with the
new award, or 200 with the existing replacement when the award was already re-issued; it
honours ``Idempotency-Key``. ``GET /awards/reissue-candidates`` lists the MMS awards the issuer
offers to re-issue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from issuer.services.reissue import reissue, reissue_candidates
from issuer.services.status import ACTIONS, CACHE_MAX_AGE, Action, change_status, published_list
from issuer.services.vcapi import status_requests_from_json, update_credential_status
from issuer.web.endpoint import actor, body, endpoint, runtime

__all__ = ["status"]

status = Blueprint("status", __name__)

_View = TypeVar("_View", bound=Callable[..., ResponseReturnValue])

_LIST_MEDIA: Final = "application/vc+ld+json"
_REASON: Final[dict[str, Any]] = {"type": "string", "minLength": 1, "maxLength": 2000}
_AWARD_ID: Final[dict[str, Any]] = {"type": "string", "minLength": 1, "maxLength": 700}
_REASON_BODY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {"reason": _REASON},
}
_BATCH_BODY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["action", "awards", "reason"],
    "properties": {
        "action": {"enum": list(ACTIONS)},
        "awards": {"type": "array", "minItems": 1, "maxItems": 5000, "items": _AWARD_ID},
        "reason": _REASON,
    },
}
_OFFER: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["award", "href", "method", "revokedComponents", "replacements"],
    "properties": {
        "award": {"type": "string"},
        "learner": {"type": "string"},
        "achievement": {"type": "string"},
        "href": {"type": "string"},
        "method": {"const": "POST"},
        "revokedComponents": {"type": "array", "items": {"type": "string"}},
        "replacements": {"type": "array", "items": {"type": "string"}},
    },
}
_OFFERS: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": _OFFER}},
}
_REISSUED: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["id", "credentialId", "awardType", "status", "replaces", "created", "offers"],
    "properties": {
        "id": {"type": "string"},
        "credentialId": {"type": "string"},
        "awardType": {"enum": ["COC", "COA", "MMS"]},
        "status": {"type": "string"},
        "replaces": {"type": "string"},
        "created": {"type": "boolean"},
        "superseded": {"type": "boolean"},
        "offers": {"type": "array", "items": _OFFER},
    },
}
_PROBLEM: Final = "application/problem+json"
_CHANGE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["id", "credentialId", "action", "before", "status", "changed"],
    "properties": {
        "id": {"type": "string"},
        "credentialId": {"type": "string"},
        "action": {"enum": list(ACTIONS)},
        "before": {"type": "string"},
        "status": {"type": "string"},
        "changed": {"type": "boolean"},
        "stackedIn": {"type": "array", "items": {"type": "string"}},
        "reissue": {"type": "array", "items": _OFFER},
    },
}
_CHANGES: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": _CHANGE}},
}


@status.get("/status/<int(max=2147483647):list_id>")
@endpoint(
    "A signed Bitstring Status List credential",
    scope=None,
    public=True,
    tags=("status",),
    responses={
        200: ("The signed BitstringStatusListCredential", {"type": "object"}, _LIST_MEDIA),
        304: ("Not modified (If-None-Match matched the ETag)", None, _LIST_MEDIA),
    },
)
def get_list(list_id: int) -> ResponseReturnValue:
    """The list's signed bytes, verbatim, with ETag and a short max-age."""
    published = published_list(runtime(), list_id)
    # RFC 9110 section 13.1.2: If-None-Match uses the weak comparison.
    matched = request.if_none_match.contains_weak(published.etag.strip('"'))
    response = Response(b"" if matched else published.body, mimetype=_LIST_MEDIA)
    if matched:
        response.status_code = 304
    response.headers["ETag"] = published.etag
    response.headers["Cache-Control"] = f"public, max-age={CACHE_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _change(award_ids: list[str], action: Action, reason: str) -> ResponseReturnValue:
    changes = change_status(runtime(), award_ids, action, reason=reason, actor=actor())
    return jsonify(items=[c.to_dict() for c in changes])


def _single(action: Action) -> Callable[[_View], _View]:
    return endpoint(
        f"{action.capitalize()} one award",
        scope="admin",
        tags=("status",),
        body=_REASON_BODY,
        responses={200: (f"The award after {action}", _CHANGES, "application/json")},
    )


@status.post("/awards/<award_id>/revoke")
@_single("revoke")
def revoke(award_id: str) -> ResponseReturnValue:
    """Revoke (idempotent: a revoked award is reported unchanged)."""
    return _change([award_id], "revoke", str(body()["reason"]))


@status.post("/awards/<award_id>/suspend")
@_single("suspend")
def suspend(award_id: str) -> ResponseReturnValue:
    """Suspend (``STATUS_TRANSITION_NOT_ALLOWED`` for a revoked award)."""
    return _change([award_id], "suspend", str(body()["reason"]))


@status.post("/awards/<award_id>/unsuspend")
@_single("unsuspend")
def unsuspend(award_id: str) -> ResponseReturnValue:
    """Lift a suspension."""
    return _change([award_id], "unsuspend", str(body()["reason"]))


@status.post("/awards/status")
@endpoint(
    "Revoke, suspend or unsuspend a batch of awards (all or none)",
    scope="admin",
    tags=("status",),
    body=_BATCH_BODY,
    responses={200: ("Each award after the change", _CHANGES, "application/json")},
)
def batch() -> ResponseReturnValue:
    """One transaction for the whole batch."""
    data = body()
    action: Action = data["action"]
    return _change([str(a) for a in data["awards"]], action, str(data["reason"]))


@status.post("/awards/<award_id>/reissue")
@endpoint(
    "Re-issue an award: replace a revoked one, or supersede an MMS embedding a revoked COA",
    scope="admin",
    tags=("status",),
    body=_REASON_BODY,
    idempotent=True,
    responses={
        201: ("The new award", _REISSUED, "application/json"),
        200: ("The award was re-issued before: its replacement", _REISSUED, "application/json"),
        409: (
            "NOT_ELIGIBLE, REPLACEMENT_MISSING or REISSUE_NOT_ALLOWED",
            None,
            _PROBLEM,
        ),
    },
)
def reissue_award(award_id: str) -> ResponseReturnValue:
    """A revoked COC/COA/MMS is replaced when its rules are met again; an active MMS is
    superseded (revoked, ``superseded by <new id>``) by one stacking the current COAs."""
    outcome = reissue(runtime(), award_id, reason=str(body()["reason"]), actor=actor())
    return jsonify(outcome.to_dict()), 201 if outcome.created else 200


@status.get("/awards/reissue-candidates")
@endpoint(
    "MMS awards the issuer offers to re-issue (a revoked COA now has an active replacement)",
    scope="admin",
    tags=("status",),
    responses={200: ("The offers, oldest MMS first", _OFFERS, "application/json")},
)
def reissue_candidates_list() -> ResponseReturnValue:
    """Each offer names the MMS, its revoked components, their replacements and where to POST."""
    return jsonify(items=[o.to_dict() for o in reissue_candidates(runtime())])


_VCAPI_STATUS_BODY: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["credentialId", "credentialStatus"],
    "properties": {
        "credentialId": {"type": "string", "minLength": 1, "maxLength": 700},
        "credentialStatus": {
            "type": "array",
            "minItems": 1,
            "maxItems": 4,
            "items": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "type": {"const": "BitstringStatusListEntry"},
                    "status": {
                        "type": ["boolean", "string"],
                        "enum": [True, False, "true", "false"],
                    },
                    "statusPurpose": {"enum": ["revocation", "suspension"]},
                },
            },
        },
    },
}
_VCAPI_STATUS_ANSWER: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["credentialId", "status", "changed"],
    "properties": {
        "credentialId": {"type": "string"},
        "before": {"enum": ["active", "suspended", "revoked"]},
        "status": {"enum": ["active", "suspended", "revoked"]},
        "changed": {"type": "boolean"},
    },
}


@status.post("/credentials/status")
@endpoint(
    "VC-API: update the status of a credential issued through /credentials/issue",
    scope="issue",
    tags=("vc-api",),
    body=_VCAPI_STATUS_BODY,
    invalid_status=400,
    description="Sets (`status: true`) or clears the revocation or suspension bit of every "
    "credential with this `id` signed through the VC-API; the status list is re-signed before "
    "the answer. Revocation is final.",
    responses={
        200: ("Credential status updated", _VCAPI_STATUS_ANSWER, "application/json"),
        404: ("No credential with that id was issued here", None, "application/problem+json"),
        409: ("Status change not allowed", None, "application/problem+json"),
    },
)
def vcapi_status() -> ResponseReturnValue:
    """Parse the VC-API body and apply it (one transaction)."""
    data = body()
    update = update_credential_status(
        runtime(),
        str(data["credentialId"]),
        status_requests_from_json(data["credentialStatus"]),
        actor=actor(),
    )
    return jsonify(update.to_dict())
