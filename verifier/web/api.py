"""The verifier's JSON API (VC-API shaped) and its operational endpoints.

Each view parses and bounds the request, calls one core function and renders its result:

* ``POST /credentials/verify`` ``{verifiableCredential, options}`` -> 200 with the report when
  verified; 422 ``application/problem+json`` carrying the same report when not (``code`` is the
  first error's code); 400 problem for a malformed request.
* ``POST /presentations/verify`` ``{verifiablePresentation, options: {challenge, domain}}`` ->
  the same codes.
* ``POST /challenges`` -> 201 ``{"challenge": ...}``, a fresh 128-bit random challenge.
* ``POST /credit-transfer/evaluate`` ``{credentials | verifiablePresentation, policy}`` -> 200
  with the evaluation.
* ``GET /openapi.json``, ``GET /healthz``, ``GET /readyz``.

Bounds: the body is capped by the app's ``MAX_CONTENT_LENGTH`` (413 ``REQUEST_TOO_LARGE``),
JSON nesting by ``SIJIL_MAX_JSON_DEPTH`` (400 ``JSON_TOO_DEEP``; also applied to JSON text
inside a string member), and the credentials one request verifies by
:data:`MAX_CREDENTIALS_PER_REQUEST` (413 ``REQUEST_TOO_LARGE``); see :mod:`.jsonbody`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from contexts.errors import MalformedValueError, ParsingError
from verifier.inputs import is_compact_jws
from verifier.models import is_presentation
from webplatform.jsonbody import RequestTooLargeError, check_json_depth, parse_json_bytes
from webplatform.problems import UnsupportedMediaTypeError, problem_body, problem_response

from .metrics import count_verification
from .services import services

__all__ = [
    "MAX_CREDENTIALS_PER_REQUEST",
    "api",
    "load_openapi",
    "parse_options",
    "read_json_object",
    "report_response",
]

api = Blueprint("api", __name__)


def load_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description shipped with the package."""
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _is_json_media_type(mimetype: str) -> bool:
    return mimetype in ("", "application/json") or mimetype.endswith("+json")


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object, within the size and depth caps.

    Raises ``UNSUPPORTED_MEDIA_TYPE`` (415), ``REQUEST_TOO_LARGE`` (413), ``JSON_TOO_DEEP``,
    ``PARSING_ERROR`` or ``MALFORMED_VALUE_ERROR`` (400).
    """
    if not _is_json_media_type(request.mimetype):
        raise UnsupportedMediaTypeError(
            f"send the request as application/json, not {request.mimetype}"
        )
    config = current_app.config
    raw = request.get_data(cache=False)
    body = parse_json_bytes(
        raw, max_bytes=config["MAX_CONTENT_LENGTH"], max_depth=config["SIJIL_MAX_JSON_DEPTH"]
    )
    if not isinstance(body, dict):
        raise MalformedValueError("the request body must be a JSON object", pointer="")
    return body


_EARLIEST_AT = datetime(2, 1, 1, tzinfo=UTC)
_LATEST_AT = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_options(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate VC-API ``options``: ``challenge``/``domain`` strings, ``at`` a date-time.

    Returns keyword arguments for the core (``challenge``, ``domain``, ``at``).
    Raises ``MALFORMED_VALUE_ERROR``.
    """
    options = body.get("options", {})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise MalformedValueError("options must be a JSON object", pointer="/options")
    out: dict[str, Any] = {}
    for name in ("challenge", "domain"):
        value = options.get(name)
        if value is not None and not isinstance(value, str):
            raise MalformedValueError(
                f"options.{name} must be a string", pointer=f"/options/{name}"
            )
        if value is not None:
            out[name] = value
    at = options.get("at")
    if at is not None:
        if not isinstance(at, str):
            raise MalformedValueError(
                "options.at must be a date-time string", pointer="/options/at"
            )
        try:
            moment = datetime.fromisoformat(at)
        except ValueError as exc:
            raise MalformedValueError(
                "options.at is not an ISO 8601 date-time", pointer="/options/at"
            ) from exc
        if moment.tzinfo is None:
            raise MalformedValueError(
                "options.at needs a time zone (e.g. Z)", pointer="/options/at"
            )
        try:
            # 0001-01-01T00:00+01:00 is a valid ISO 8601 string but has no UTC moment.
            moment = moment.astimezone(UTC)
        except OverflowError as exc:
            raise MalformedValueError(
                "options.at is outside the representable range", pointer="/options/at"
            ) from exc
        if not _EARLIEST_AT <= moment <= _LATEST_AT:
            # The checks add clock skew and cache lifetimes to it; keep that representable.
            raise MalformedValueError(
                "options.at must lie between the years 0002 and 9998", pointer="/options/at"
            )
        out["at"] = moment
    return out


def _document(body: Mapping[str, Any], member: str) -> dict[str, Any] | str:
    if member not in body:
        raise ParsingError(f"the request has no {member}", pointer=f"/{member}")
    value = body[member]
    if not isinstance(value, (dict, str)):
        raise MalformedValueError(
            f"{member} must be a JSON object (or a VC-JWT string)", pointer=f"/{member}"
        )
    if isinstance(value, str):
        # VC DM 2.0 / VC-JOSE-COSE: only a compact JWT (possibly as an enveloping data: URL)
        # may stand for a credential as a string; JSON text holding a Data Integrity
        # credential is not one (MALFORMED_VALUE_ERROR), anything else is unreadable.
        token = value.strip()
        for prefix in _ENVELOPE_PREFIXES:
            if token.startswith(prefix):
                token = token[len(prefix) :]
        if not is_compact_jws(token):
            if token.startswith(("{", "[")):
                # Bound the nesting first, like the body (JSON_TOO_DEEP), then refuse.
                check_json_depth(token, current_app.config["SIJIL_MAX_JSON_DEPTH"])
                raise MalformedValueError(
                    f"{member} given as a string must be a compact JWT; send a JSON-LD "
                    "credential as a JSON object, not as JSON text in a string",
                    pointer=f"/{member}",
                )
            raise ParsingError(
                f"{member} given as a string must be a compact JWT", pointer=f"/{member}"
            )
    return value


_ENVELOPE_PREFIXES = ("data:application/vc+jwt,", "data:application/vp+jwt,")


#: Most credentials one request may ask to verify (a transfer list, a presentation's content).
MAX_CREDENTIALS_PER_REQUEST = 100


def _limit_credentials(credentials: Any, presentation: Any) -> None:
    """Bound the verification work of one request (``REQUEST_TOO_LARGE``)."""
    count = len(credentials) if isinstance(credentials, list) else 0
    if isinstance(presentation, dict):
        held = presentation.get("verifiableCredential")
        count += len(held) if isinstance(held, list) else 1
    if count > MAX_CREDENTIALS_PER_REQUEST:
        raise RequestTooLargeError(
            f"{count} credentials in one request; the limit is {MAX_CREDENTIALS_PER_REQUEST}"
        )


def report_response(report: Mapping[str, Any]) -> Response:
    """200 with the report when verified; else 422 problem details carrying the report."""
    count_verification(report, channel="api")
    if report.get("verified") is True:
        return jsonify(dict(report))
    errors = report.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], Mapping) else {}
    code = str(first.get("code") or "VERIFICATION_FAILED")
    detail = str(first.get("detail") or first.get("message") or "The input did not verify.")
    body = problem_body(code=code, title="Verification failed", status=422, detail=detail)
    body.update({k: v for k, v in report.items() if k not in body})
    return problem_response(body, 422)


@api.post("/credentials/verify")
def verify_credential_view() -> Response:
    body = read_json_object()
    credential = _document(body, "verifiableCredential")
    if isinstance(credential, dict) and is_presentation(credential):
        raise MalformedValueError(
            "verifiableCredential is a presentation; send it to /presentations/verify",
            pointer="/verifiableCredential/type",
        )
    report = services().verify_credential(credential, **parse_options(body))
    return report_response(report)


@api.post("/presentations/verify")
def verify_presentation_view() -> Response:
    body = read_json_object()
    presentation = _document(body, "verifiablePresentation")
    if isinstance(presentation, dict) and not is_presentation(presentation):
        raise MalformedValueError(
            "verifiablePresentation has no VerifiablePresentation type; send a credential to "
            "/credentials/verify",
            pointer="/verifiablePresentation/type",
        )
    _limit_credentials(None, presentation)
    report = services().verify_presentation(presentation, **parse_options(body))
    return report_response(report)


@api.post("/challenges")
def create_challenge() -> tuple[Response, int]:
    return jsonify({"challenge": secrets.token_urlsafe(16)}), 201


@api.post("/credit-transfer/evaluate")
def evaluate_credit_transfer() -> Response:
    body = read_json_object()
    policy = body.get("policy")
    if not isinstance(policy, dict):
        raise MalformedValueError("policy must be a JSON object", pointer="/policy")
    credentials = body.get("credentials")
    presentation = body.get("verifiablePresentation")
    if (credentials is None) == (presentation is None):
        raise MalformedValueError(
            "send exactly one of credentials (a list) or verifiablePresentation", pointer=""
        )
    if credentials is not None and (
        not isinstance(credentials, list)
        or not all(isinstance(c, (dict, str)) for c in credentials)
    ):
        raise MalformedValueError(
            "credentials must be a list of credentials", pointer="/credentials"
        )
    if presentation is not None and not isinstance(presentation, (dict, str)):
        raise MalformedValueError(
            "verifiablePresentation must be a JSON object", pointer="/verifiablePresentation"
        )
    _limit_credentials(credentials, presentation)
    depth = current_app.config["SIJIL_MAX_JSON_DEPTH"]
    for item in [*(credentials or []), presentation]:
        if isinstance(item, str):
            check_json_depth(item, depth)
    evaluation = services().evaluate_transfer(
        policy,
        credentials=credentials,
        presentation=presentation,
        **parse_options(body),
    )
    return jsonify(evaluation)


@api.get("/openapi.json")
def openapi() -> Response:
    response = jsonify(current_app.extensions["sijil_openapi"])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@api.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@api.get("/readyz")
def readyz() -> Response:
    problem = services().readiness_problem()
    if problem is not None:
        return problem_response(
            problem_body(code="NOT_READY", title="Not ready", status=503, detail=problem)
        )
    return jsonify({"status": "ready"})
