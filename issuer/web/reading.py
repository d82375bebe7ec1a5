"""Read routes (scope ``read``): list and get awards.

``GET /awards`` filters by learner (student id), award type and status and pages with
``limit``/``offset``; the answer carries ``next`` (the query for the following page) until the
list is exhausted. ``GET /awards/<id>`` embeds the signed credential.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from issuer.services.awards import get_award, list_awards
from issuer.wallet.binding import deliveries_of
from issuer.web.endpoint import endpoint, query, runtime

__all__ = ["AWARD_SCHEMA", "reading"]

reading = Blueprint("reading", __name__)

MAX_PAGE: Final = 200

AWARD_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["id", "credentialId", "awardType", "achievement", "learner", "issuer", "status"],
    "properties": {
        "id": {"type": "string"},
        "credentialId": {"type": "string", "format": "uri"},
        "awardType": {"enum": ["COC", "COA", "MMS"]},
        "achievement": {"type": "string"},
        "learner": {"type": "string"},
        "issuer": {"type": "string"},
        "issuedAt": {"type": "string", "format": "date-time"},
        "status": {"type": "string"},
        "credential": {"type": "object"},
        "wallets": {
            "type": "array",
            "description": "Which wallets received the award (holder DID, protocol, when)",
            "items": {"type": "object"},
        },
    },
}

_LIST_QUERY: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "learner": {"type": "string", "minLength": 1, "maxLength": 128},
        "type": {"enum": ["COC", "COA", "MMS"]},
        "status": {"type": "string", "pattern": "^[a-z]{1,12}$"},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50},
        "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0},
    },
}


@reading.get("/awards")
@endpoint(
    "List awards",
    scope="read",
    tags=("awards",),
    query=_LIST_QUERY,
    responses={
        200: (
            "A page of awards, oldest first",
            {
                "type": "object",
                "required": ["items", "limit", "offset", "next"],
                "properties": {
                    "items": {"type": "array", "items": AWARD_SCHEMA},
                    "limit": {"type": "integer"},
                    "offset": {"type": "integer"},
                    "next": {"type": ["string", "null"]},
                },
            },
            "application/json",
        )
    },
)
def list_() -> ResponseReturnValue:
    """One page; one extra row is read to know whether another page follows."""
    q = query()
    limit = int(q.get("limit", 50))
    offset = int(q.get("offset", 0))
    rows = list_awards(
        runtime(),
        learner=q.get("learner"),
        award_type=q.get("type"),
        status=q.get("status"),
        limit=limit + 1,
        offset=offset,
    )
    next_url: str | None = None
    if len(rows) > limit:
        args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
        args.update(limit=str(limit), offset=str(offset + limit))
        next_url = "/awards?" + urlencode(sorted(args.items()))
    return jsonify(
        items=[a.to_dict() for a in rows[:limit]], limit=limit, offset=offset, next=next_url
    )


@reading.get("/awards/<award_id>")
@endpoint(
    "Get one award with its signed credential",
    scope="read",
    tags=("awards",),
    responses={200: ("The award", AWARD_SCHEMA, "application/json")},
)
def get(award_id: str) -> ResponseReturnValue:
    """The award by UUID (``NOT_FOUND`` otherwise), with the wallets that received it."""
    view = get_award(runtime(), award_id)
    return jsonify(
        {**view.to_dict(include_credential=True), "wallets": deliveries_of(runtime(), view.id)}
    )
