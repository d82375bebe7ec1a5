"""Typed errors shared by every layer of sijil.

Every failure a caller can act on is a :class:`SijilError` subclass with a stable,
machine-readable ``code``. Codes are the specs' own where a spec names one (VC Data
Model 2.0 section 7.1 "Verification", Data Integrity 1.0 "Processing Errors",
Bitstring Status List 1.0 "Processing Errors"); codes of our own are in the same
SCREAMING_SNAKE form. Tests assert the code, never the message.

The HTTP layers render these as RFC 9457 ``application/problem+json``; the CLIs print
``CODE: detail``. The class lives in the left-most package so every layer can raise it
without breaking the import layering (contexts <- keys <- verifier <- issuer).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ContextNotPinnedError",
    "CryptosuiteError",
    "DataLossDetectionError",
    "InvalidVerificationMethodError",
    "MalformedValueError",
    "ParsingError",
    "ProofGenerationError",
    "ProofVerificationError",
    "SijilError",
]

PROBLEM_TYPE_BASE = "https://sijil.example/problems/"


class SijilError(Exception):
    """Base of every error with a stable code.

    ``detail`` is a sentence a person can read; ``pointer`` is an optional RFC 6901
    JSON pointer into the input that caused it.
    """

    code: ClassVar[str] = "SIJIL_ERROR"
    title: ClassVar[str] = "sijil error"
    http_status: ClassVar[int] = 400

    def __init__(self, detail: str, *, pointer: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.extra = extra

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """The error as a report entry: ``{"code", "title", "detail", ...}``."""
        out: dict[str, Any] = {"code": self.code, "title": self.title, "detail": self.detail}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        out.update(self.extra)
        return out

    def to_problem(self) -> dict[str, Any]:
        """The error as an RFC 9457 problem details object."""
        out: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            "title": self.title,
            "status": self.http_status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.pointer is not None:
            out["pointer"] = self.pointer
        out.update(self.extra)
        return out


class ParsingError(SijilError):
    """The input is not well-formed JSON / JWT / image (VC DM 2.0 PARSING_ERROR)."""

    code = "PARSING_ERROR"
    title = "Input could not be parsed"


class MalformedValueError(SijilError):
    """A value has the wrong type or form (VC DM 2.0 / BSL MALFORMED_VALUE_ERROR)."""

    code = "MALFORMED_VALUE_ERROR"
    title = "Malformed value"


class ContextNotPinnedError(SijilError):
    """A JSON-LD context URL is not one of the pinned, hash-checked contexts."""

    code = "CONTEXT_NOT_PINNED"
    title = "JSON-LD context is not pinned"


class DataLossDetectionError(SijilError):
    """JSON-LD expansion would drop a term, type or relative IRI (Data Integrity 1.0)."""

    code = "DATA_LOSS_DETECTION_ERROR"
    title = "Data loss detected during JSON-LD processing"


class ProofGenerationError(SijilError):
    """A proof could not be created (Data Integrity 1.0 PROOF_GENERATION_ERROR)."""

    code = "PROOF_GENERATION_ERROR"
    title = "Proof generation failed"
    http_status = 400


class ProofVerificationError(SijilError):
    """A proof is invalid (Data Integrity 1.0 PROOF_VERIFICATION_ERROR)."""

    code = "PROOF_VERIFICATION_ERROR"
    title = "Proof verification failed"
    http_status = 422


class InvalidVerificationMethodError(SijilError):
    """The verification method cannot be resolved or is not usable for this proof."""

    code = "INVALID_VERIFICATION_METHOD"
    title = "Invalid verification method"
    http_status = 422


class CryptosuiteError(SijilError):
    """The proof names a cryptosuite we do not implement or a key of the wrong type."""

    code = "PROOF_VERIFICATION_ERROR"
    title = "Unsupported or mismatched cryptosuite"
    http_status = 422
