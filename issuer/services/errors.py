"""Errors of the issuer's service layer (``SijilError`` subclasses with stable codes).

The web layer renders them as problem+json with ``http_status``; the CLI prints ``CODE: detail``.
Database faults (``DATABASE_UNAVAILABLE``, ``DISK_FULL``, ``DATABASE_BUSY``, ``DATABASE_ERROR``)
are raised by the engine itself (:mod:`issuer.db.faults`) and re-exported here.
"""

from __future__ import annotations

from contexts.errors import SijilError
from issuer.db.faults import (
    DatabaseBusyError,
    DatabaseFaultError,
    DatabaseUnavailableError,
    DiskFullError,
)

__all__ = [
    "ConflictError",
    "DatabaseBusyError",
    "DatabaseFaultError",
    "DatabaseUnavailableError",
    "DiskFullError",
    "IdempotencyKeyReusedError",
    "InsufficientScopeError",
    "InvalidTokenError",
    "IssuerMismatchError",
    "NotFoundError",
    "SelfVerificationError",
    "SubmittedCredentialRejectedError",
    "UnknownReferenceError",
]


class NotFoundError(SijilError):
    """No such issuer, micro-credential, programme, learner, award or token."""

    code = "NOT_FOUND"
    title = "Not found"
    http_status = 404


class ConflictError(SijilError):
    """The write conflicts with existing state (e.g. a slug already taken)."""

    code = "CONFLICT"
    title = "Conflict"
    http_status = 409


class UnknownReferenceError(SijilError):
    """An event or record names a learner, micro-credential or item that does not exist."""

    code = "UNKNOWN_REFERENCE"
    title = "Unknown reference"
    http_status = 422


class InvalidTokenError(SijilError):
    """Missing, unknown or revoked API token (HTTP 401)."""

    code = "INVALID_TOKEN"
    title = "Invalid or missing API token"
    http_status = 401


class InsufficientScopeError(SijilError):
    """The token is valid but lacks the scope the operation needs (HTTP 403)."""

    code = "INSUFFICIENT_SCOPE"
    title = "Token lacks the required scope"
    http_status = 403


class IssuerMismatchError(SijilError):
    """A caller-supplied credential names an issuer other than the signing issuer."""

    code = "ISSUER_MISMATCH"
    title = "Credential issuer does not match the signing issuer"
    http_status = 400


class SelfVerificationError(SijilError):
    """The verifier rejected a credential the issuer just signed; nothing was stored."""

    code = "SELF_VERIFICATION_FAILED"
    title = "Issued credential failed self-verification"
    http_status = 500


class SubmittedCredentialRejectedError(SijilError):
    """A caller-written credential (VC-API issue) that the verifier rejects once signed, e.g. an
    Open Badge missing a member its schema requires: the caller's content is at fault, so 422,
    with the verifier's ``errors``; nothing was stored or returned."""

    code = "CREDENTIAL_REJECTED"
    title = "The submitted credential would not verify"
    http_status = 422


class IdempotencyKeyReusedError(SijilError):
    """An ``Idempotency-Key`` was reused with a different request (HTTP 422)."""

    code = "IDEMPOTENCY_KEY_REUSED"
    title = "Idempotency key reused with a different request"
    http_status = 422
