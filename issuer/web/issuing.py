"""Issue routes (scope ``issue``): progress events, CSV import, VC-API credential signing.

``POST /progress`` takes one event or ``{"events": [...]}`` (all or nothing) and answers the
awards that became due; ``POST /progress/import`` takes an LMS CSV export (``text/csv`` body
or a ``multipart/form-data`` ``file``) and keeps good rows, reporting bad ones by line.

VC-API ``POST /credentials/issue`` (default issuer) and ``POST /issuers/<slug>/credentials/issue``
sign a caller-supplied credential: ``{"credential": {...}, "options": {"cryptosuite"?}}`` ->
``201 {"verifiableCredential": {...}}``. The credential is checked against the VC Data Model
first (:mod:`issuer.vcdm`, 400 ``MALFORMED_VALUE_ERROR`` with a pointer). Issuer policy: a
credential without ``issuer`` gets the signing issuer's DID; one naming another issuer is
refused (400 ``ISSUER_MISMATCH``); the signing service self-verifies before answering.
VC Data Model rules: a ``credentialStatus`` of any type is kept (400
``STATUS_ENTRY_NOT_ALLOWED`` only when it points into this issuer's own status lists); a
credential without one gets the issuer's revocation entry (a VC 1.1 credential also the Bitstring
Status List context), changeable through ``POST /credentials/status``; a ``validUntil`` in the
past is accepted.

Learners who received new awards from ``/progress`` or ``/progress/import`` are mailed their claim
link by the outbox worker (one ``learner.notify`` event per learner and batch, committed with the
award; ``SIJIL_NOTIFY_LEARNERS=0`` turns it off): no request sends mail (see
:mod:`issuer.delivery.notify`).
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from issuer.domain.progress import event_from_json
from issuer.services.csvimport import import_progress
from issuer.services.issuance import sign_credential
from issuer.services.progress import record_progress
from issuer.vcdm import validate_credential
from issuer.web.endpoint import actor, body, endpoint, runtime
from issuer.web.reading import AWARD_SCHEMA
from issuer.web.requestbody import UnsupportedMediaTypeError
from keys.dataintegrity import SUITES

__all__ = ["CRYPTOSUITES", "MAX_BATCH", "MAX_CSV_BYTES", "issuing"]

issuing = Blueprint("issuing", __name__)

#: The Data Integrity cryptosuites the VC-API issue options offer (from the format registry).
CRYPTOSUITES: Final = tuple(SUITES)
#: Events per JSON batch; larger feeds go through the CSV import.
MAX_BATCH: Final = 1000
#: Largest CSV upload (10,000 rows is ~1 MiB).
MAX_CSV_BYTES: Final = 16 * 1024 * 1024

_TEXT: Final[dict[str, Any]] = {"type": "string", "minLength": 1, "maxLength": 300}
EVENT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["learner", "microCredential", "type", "item"],
    "properties": {
        "learner": {"type": "string", "minLength": 1, "maxLength": 128},
        "microCredential": _TEXT,
        "type": {"enum": ["materialCompleted", "assessmentResult"]},
        "item": _TEXT,
        "score": {"type": ["number", "string"], "description": "percent 0..100"},
        "grade": {"type": ["string", "null"], "maxLength": 16},
        "occurredAt": {"type": ["string", "null"], "format": "date-time"},
        "learnerEmail": {"type": ["string", "null"], "maxLength": 320},
        "learnerName": {"type": ["string", "null"], "maxLength": 300},
        "learnerDid": {"type": ["string", "null"], "maxLength": 500},
    },
}
PROGRESS_SCHEMA: Final[dict[str, Any]] = {
    "oneOf": [
        EVENT_SCHEMA,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["events"],
            "properties": {
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_BATCH,
                    "items": EVENT_SCHEMA,
                }
            },
        },
    ]
}
_OUTCOME_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["recorded", "unchanged", "rejected", "issued"],
    "properties": {
        "recorded": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "rejected": {"type": "array"},
        "issued": {"type": "array", "items": AWARD_SCHEMA},
    },
}
_IMPORT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["rows", "recorded", "unchanged", "badRows", "issued"],
    "properties": {
        "rows": {"type": "integer"},
        "recorded": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "badRows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "line": {"type": "integer"},
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
        "issued": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}
ISSUE_REQUEST_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["credential"],
    "properties": {
        "credential": {
            "type": "object",
            # The audit log records the credential id (700 characters at most).
            "properties": {"id": {"type": "string", "maxLength": 700}},
            "description": "An unsigned VC 2.0 or 1.1 credential. `issuer` may be omitted (the "
            "signing issuer's DID is filled in); if given it must be the signing issuer.",
        },
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cryptosuite": {"enum": list(CRYPTOSUITES)},
                "type": {"const": "DataIntegrityProof"},
            },
        },
    },
}
_ISSUE_RESPONSE: Final[dict[int, tuple[str, dict[str, Any] | None, str]]] = {
    201: (
        "The signed, self-verified credential",
        {
            "type": "object",
            "required": ["verifiableCredential"],
            "properties": {"verifiableCredential": {"type": "object"}},
        },
        "application/json",
    ),
    400: (
        "Not a valid credential, issuer mismatch, or a status entry in the issuer's own lists",
        None,
        "application/problem+json",
    ),
}


@issuing.post("/progress")
@endpoint(
    "Record progress events and issue what became due",
    scope="issue",
    tags=("progress",),
    body=PROGRESS_SCHEMA,
    idempotent=True,
    description='One event or `{"events": [...]}` (at most 1000, all or nothing). Replaying '
    "events issues nothing twice.",
    responses={
        200: ("What was recorded and the awards issued", _OUTCOME_SCHEMA, "application/json")
    },
)
def progress() -> ResponseReturnValue:
    """Parse the events (pointer ``/events/<i>/...``), record them, answer the outcome."""
    data = body()
    if "events" in data:
        events = [event_from_json(e, pointer=f"/events/{i}") for i, e in enumerate(data["events"])]
    else:
        events = [event_from_json(data)]
    outcome = record_progress(runtime(), events, actor=actor())
    return jsonify(outcome.to_dict())


def _csv_upload() -> bytes:
    """The CSV bytes of a ``text/csv`` body or a multipart ``file`` part."""
    if request.mimetype in ("text/csv", "application/csv", "text/plain"):
        return request.get_data(cache=False)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise UnsupportedMediaTypeError("the multipart body has no 'file' part")
        data: bytes = upload.read(MAX_CSV_BYTES + 1)
        return data
    raise UnsupportedMediaTypeError(
        f"send the CSV as text/csv or as a multipart 'file', not {request.mimetype or 'nothing'}"
    )


@issuing.post("/progress/import")
@endpoint(
    "Import an LMS progress CSV",
    scope="issue",
    tags=("progress",),
    request_media=("text/csv", "multipart/form-data"),
    max_bytes=MAX_CSV_BYTES,
    idempotent=True,
    description="Columns: learner_id, micro_credential, event, item (required); score, grade, "
    "occurred_at, learner_email, learner_name, learner_did. Bad rows are reported by line; good "
    "rows are kept. Re-importing the same file issues nothing new.",
    responses={200: ("Import summary", _IMPORT_SCHEMA, "application/json")},
)
def progress_import() -> ResponseReturnValue:
    """Hand the uploaded bytes to the core import."""
    summary = import_progress(runtime(), _csv_upload(), actor=actor())
    return jsonify(summary.to_dict())


def _issue(slug: str | None) -> ResponseReturnValue:
    data = body()
    credential = data["credential"]
    validate_credential(credential, issuer_required=False)
    options: dict[str, Any] = data.get("options") or {}
    signed = sign_credential(
        runtime(),
        credential,
        issuer=slug,
        cryptosuite=options.get("cryptosuite"),
        actor=actor(),
    )
    return jsonify(verifiableCredential=signed), 201


@issuing.post("/credentials/issue")
@endpoint(
    "VC-API: sign a credential with the default issuer",
    scope="issue",
    tags=("vc-api",),
    body=ISSUE_REQUEST_SCHEMA,
    invalid_status=400,
    idempotent=True,
    responses=_ISSUE_RESPONSE,
)
def issue_default() -> ResponseReturnValue:
    """VC-API issue with the default issuer."""
    return _issue(None)


@issuing.post("/issuers/<slug>/credentials/issue")
@endpoint(
    "VC-API: sign a credential with a named issuer",
    scope="issue",
    tags=("vc-api",),
    body=ISSUE_REQUEST_SCHEMA,
    invalid_status=400,
    idempotent=True,
    responses=_ISSUE_RESPONSE,
)
def issue_named(slug: str) -> ResponseReturnValue:
    """VC-API issue with the issuer ``slug`` (did:web or did:key of any key type)."""
    return _issue(slug)
