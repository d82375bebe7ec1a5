"""``Idempotency-Key`` support for POST endpoints: remember and replay the first answer.

The web layer hashes the request (method, path, body) and calls :func:`remembered_response`
before doing the work; after, :func:`remember_response` stores the answer. The same key with a
different request is ``IDEMPOTENCY_KEY_REUSED`` (422). Keys are scoped per principal (token).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from issuer.db.models import IdempotencyRecord
from issuer.services.errors import IdempotencyKeyReusedError
from issuer.services.runtime import Runtime

__all__ = ["batch_id", "remember_response", "remembered_response", "request_fingerprint"]


def batch_id(principal: str, key: str) -> str:
    """The outbox batch of every attempt of one keyed request (see :mod:`issuer.outbox`)."""
    digest = hashlib.sha256(f"{principal}\n{key}".encode()).hexdigest()
    return f"idempotency:{digest}"


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 hex over method, path and body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def remembered_response(
    rt: Runtime, principal: str, key: str, fingerprint: str
) -> tuple[int, str] | None:
    """The stored (status, body) for this key, or ``None``. Raises ``IDEMPOTENCY_KEY_REUSED``."""
    with rt.reading() as session:
        row = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        )
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key was used with a different request"
            )
        return row.response_status, row.response_body


def remember_response(
    rt: Runtime, principal: str, key: str, fingerprint: str, status: int, body: str
) -> None:
    """Store the answer (first writer wins; a concurrent duplicate is ignored)."""
    try:
        with rt.transaction() as session:
            session.add(
                IdempotencyRecord(
                    principal=principal,
                    key=key[:200],
                    request_hash=fingerprint,
                    response_status=status,
                    response_body=body,
                    created_at=rt.now(),
                )
            )
    except IntegrityError:
        return
