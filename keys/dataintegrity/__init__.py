"""W3C Data Integrity 1.0 proofs: one module per cryptosuite.

Public API: :func:`add_proof`, :func:`verify_proofs`, :class:`ProofResult`,
:data:`SUITES` (names of the supported cryptosuites) and :func:`get_suite`.
Suites: ``eddsa-rdfc-2022``, ``eddsa-jcs-2022`` (vc-di-eddsa 1.0),
``ecdsa-rdfc-2019``, ``ecdsa-jcs-2019`` (vc-di-ecdsa 1.0; P-256 with SHA-256,
P-384 with SHA-384).
"""

from __future__ import annotations

from keys.dataintegrity.errors import (
    InvalidChallengeError,
    InvalidDomainError,
    InvalidProofConfigurationError,
    InvalidProofDatetimeError,
    IssuerBindingError,
    MalformedProofError,
    MismatchedProofPurposeError,
    ProofExpiredError,
    ProofTransformationError,
)
from keys.dataintegrity.proof import (
    ProofResult,
    VerificationMethodResolver,
    add_proof,
    require_bound_proof,
    verify_proofs,
)
from keys.dataintegrity.registry import SUITES, get_suite
from keys.dataintegrity.suite import Cryptosuite

__all__ = [
    "SUITES",
    "Cryptosuite",
    "InvalidChallengeError",
    "InvalidDomainError",
    "InvalidProofConfigurationError",
    "InvalidProofDatetimeError",
    "IssuerBindingError",
    "MalformedProofError",
    "MismatchedProofPurposeError",
    "ProofExpiredError",
    "ProofResult",
    "ProofTransformationError",
    "VerificationMethodResolver",
    "add_proof",
    "get_suite",
    "require_bound_proof",
    "verify_proofs",
]
