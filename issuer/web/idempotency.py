"""``Idempotency-Key`` on POST routes (IETF draft-ietf-httpapi-idempotency-key-header).

A client that repeats a POST with the same key gets the first answer again, marked
``Idempotent-Replayed: true``, and nothing is done twice. Keys are scoped per token; the
request fingerprint covers method, path (with query) and body, so the same key with a different
request is ``IDEMPOTENCY_KEY_REUSED`` (422). Only successful (2xx) JSON answers are remembered: a
failed request can be retried with the same key once fixed. Storage is the core service
:mod:`issuer.services.idempotency`.

Two requests racing with one key both run (the core's award rules and unique constraints keep
issuance exactly-once); the first stored answer is what later replays return.

A request with a key runs as one outbox batch named after the principal and the key
(:func:`issuer.services.idempotency.batch_id`): when the first attempt died after committing some
awards (no answer was stored), the retry continues the same batch, so it reports every award the
batch issued and each learner is mailed once for the whole batch.

Errors: ``INVALID_IDEMPOTENCY_KEY`` (400, empty, longer than 200 characters or not printable
ASCII), ``IDEMPOTENCY_KEY_REUSED`` (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from flask import Response, make_response, request
from flask.typing import ResponseReturnValue

from contexts.errors import SijilError
from issuer.outbox.events import batch_scope
from issuer.services.idempotency import (
    batch_id,
    remember_response,
    remembered_response,
    request_fingerprint,
)
from issuer.services.runtime import Runtime

__all__ = ["HEADER", "REPLAYED_HEADER", "InvalidIdempotencyKeyError", "replay_or_run"]

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
_MAX_KEY: Final = 200


class InvalidIdempotencyKeyError(SijilError):
    """The ``Idempotency-Key`` header is empty, too long or not printable ASCII."""

    code = "INVALID_IDEMPOTENCY_KEY"
    title = "Invalid Idempotency-Key"
    http_status = 400


def _key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    # A structured-field string may be quoted (the draft's form); accept both.
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > _MAX_KEY or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKeyError(
            f"{HEADER} must be 1..{_MAX_KEY} printable ASCII characters"
        )
    return key


def replay_or_run(rt: Runtime, principal: str, run: Callable[[], ResponseReturnValue]) -> Response:
    """Answer a replay from storage, else run the view and remember a 2xx JSON answer.

    ``principal`` scopes the key (the token's ``token:<id>``).
    """
    key = _key()
    if key is None:
        return make_response(run())
    fingerprint = request_fingerprint(
        request.method, request.full_path.rstrip("?"), request.get_data(cache=True)
    )
    stored = remembered_response(rt, principal, key, fingerprint)
    if stored is not None:
        status, text = stored
        replay = Response(text, status=status, mimetype="application/json")
        replay.headers[REPLAYED_HEADER] = "true"
        return replay
    with batch_scope(batch_id(principal, key), notify=rt.settings.notify_learners):
        response = make_response(run())
    if 200 <= response.status_code < 300 and response.mimetype == "application/json":
        remember_response(
            rt, principal, key, fingerprint, response.status_code, response.get_data(as_text=True)
        )
    return response
