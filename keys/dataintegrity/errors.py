"""Errors of Data Integrity proofs and VC-JOSE-COSE, with the specs' own codes.

Data Integrity 1.0 "Processing Errors" names ``PROOF_GENERATION_ERROR``,
``PROOF_VERIFICATION_ERROR``, ``MALFORMED_PROOF_ERROR`` (-17),
``MISMATCHED_PROOF_PURPOSE_ERROR`` (-18), ``INVALID_DOMAIN_ERROR`` (-19) and
``INVALID_CHALLENGE_ERROR`` (-20); the cryptosuite specs (vc-di-eddsa, vc-di-ecdsa)
add ``PROOF_TRANSFORMATION_ERROR``, ``INVALID_PROOF_CONFIGURATION`` and
``INVALID_PROOF_DATETIME``. The rest are ours (no spec names them):
``PROOF_EXPIRED``, ``ISSUER_BINDING_ERROR`` and ``JWT_ALGORITHM_NOT_ALLOWED``.

Each class subclasses the generic error a caller already handles
(:class:`~contexts.errors.ProofVerificationError`,
:class:`~contexts.errors.MalformedValueError`, ...), so ``except ProofVerificationError``
still catches a wrong domain, while the report shows the precise code.
"""

from __future__ import annotations

from contexts.errors import (
    MalformedValueError,
    ParsingError,
    ProofVerificationError,
)

__all__ = [
    "InvalidChallengeError",
    "InvalidDomainError",
    "InvalidProofConfigurationError",
    "InvalidProofDatetimeError",
    "IssuerBindingError",
    "JwtAlgorithmNotAllowedError",
    "MalformedProofError",
    "MismatchedProofPurposeError",
    "ProofExpiredError",
    "ProofTransformationError",
]


class MalformedProofError(MalformedValueError):
    """A proof lacks a required member or has one of the wrong form (DI 1.0, -17)."""

    code = "MALFORMED_PROOF_ERROR"
    title = "Malformed proof"


class MismatchedProofPurposeError(ProofVerificationError):
    """``proof.proofPurpose`` is not the purpose the verifier expects (DI 1.0, -18)."""

    code = "MISMATCHED_PROOF_PURPOSE_ERROR"
    title = "Mismatched proof purpose"


class InvalidDomainError(ProofVerificationError):
    """``proof.domain`` does not match the verifier's expected domain (DI 1.0, -19)."""

    code = "INVALID_DOMAIN_ERROR"
    title = "Invalid domain"


class InvalidChallengeError(ProofVerificationError):
    """``proof.challenge`` does not match the verifier's challenge (DI 1.0, -20)."""

    code = "INVALID_CHALLENGE_ERROR"
    title = "Invalid challenge"


class ProofTransformationError(ProofVerificationError):
    """Transformation options name another proof type or cryptosuite (cryptosuite specs)."""

    code = "PROOF_TRANSFORMATION_ERROR"
    title = "Proof transformation failed"


class InvalidProofConfigurationError(MalformedValueError):
    """Proof configuration has the wrong type or cryptosuite (cryptosuite specs)."""

    code = "INVALID_PROOF_CONFIGURATION"
    title = "Invalid proof configuration"


class InvalidProofDatetimeError(MalformedValueError):
    """``created`` / ``expires`` is not an XML Schema dateTimeStamp (cryptosuite specs)."""

    code = "INVALID_PROOF_DATETIME"
    title = "Invalid proof datetime"


class ProofExpiredError(ProofVerificationError):
    """``proof.expires`` is at or before the verification time (ours)."""

    code = "PROOF_EXPIRED"
    title = "Proof expired"


class IssuerBindingError(ProofVerificationError):
    """The signer's controller is not the credential's issuer (or presentation's holder).

    Ours: VC DM 2.0 requires the issuer to be the one securing the credential but names
    no error code for it.
    """

    code = "ISSUER_BINDING_ERROR"
    title = "Signer is not the issuer"


class JwtAlgorithmNotAllowedError(ParsingError):
    """A JWS header names ``none``, an HMAC algorithm, or one not matching the key (ours)."""

    code = "JWT_ALGORITHM_NOT_ALLOWED"
    title = "JWS algorithm not allowed"
    http_status = 422
