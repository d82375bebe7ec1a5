"""``ecdsa-rdfc-2019``: ECDSA P-256 / P-384 over RDFC-1.0 canonical N-Quads.

Spec: W3C "Data Integrity ECDSA Cryptosuites v1.0", section 3.2 "ecdsa-rdfc-2019"
(3.2.1 Create Proof, 3.2.2 Verify Proof, 3.2.3 Transformation, 3.2.4 Hashing,
3.2.5 Proof Configuration, 3.2.6 Proof Serialization, 3.2.7 Proof Verification).
P-256 hashes with SHA-256 and P-384 with SHA-384: RDFC-1.0's own hash algorithm
(3.2.3, 3.2.5), both halves of hashData (3.2.4) and the signature (3.2.6).
Signatures are RFC 6979 deterministic raw ``r||s``, so the spec's vectors reproduce
byte for byte; verification accepts high-S values, as 3 of the 6 spec vectors have
one. Vectors: ``vectors/ecdsa-rdfc-2019/{p256,p384}/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from keys.dataintegrity.suite import (
    Cryptosuite,
    rdfc_proof_configuration,
    rdfc_transformation,
)
from keys.keypair import KeyPair

__all__ = ["SUITE", "EcdsaRdfc2019"]


class EcdsaRdfc2019(Cryptosuite):
    """The ecdsa-rdfc-2019 cryptosuite (stateless; use :data:`SUITE`)."""

    name: ClassVar[str] = "ecdsa-rdfc-2019"
    key_types: ClassVar[frozenset[str]] = frozenset({"P-256", "P-384"})
    uses_rdf: ClassVar[bool] = True

    def transformation(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """3.2.3 Transformation: RDFC-1.0 canonical N-Quads of the document, with
        RDFC-1.0's hash algorithm = the curve's (SHA-256 for P-256, SHA-384 for P-384).

        PROOF_TRANSFORMATION_ERROR if ``options`` name another type or suite;
        DATA_LOSS_DETECTION_ERROR / CONTEXT_NOT_PINNED from canonicalization.
        """
        self.check_options(options, for_transformation=True)
        return rdfc_transformation(unsecured_document, key.hash_name)

    def hashing(
        self, transformed_document: bytes, canonical_proof_config: bytes, key: KeyPair
    ) -> bytes:
        """3.2.4 Hashing: H(proofConfig) || H(document), H = SHA-256 for P-256 (64
        bytes) and SHA-384 for P-384 (96 bytes).
        """
        return self.hash_pair(transformed_document, canonical_proof_config, key.hash_name)

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured_document: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """3.2.5 Proof Configuration: canonical N-Quads (RDFC-1.0 with the curve's
        hash) of the options with the document's ``@context``.
        INVALID_PROOF_CONFIGURATION, INVALID_PROOF_DATETIME.
        """
        self.check_options(options, for_transformation=False)
        return rdfc_proof_configuration(options, unsecured_document, key.hash_name)

    def proof_serialization(self, hash_data: bytes, key: KeyPair) -> bytes:
        """3.2.6 Proof Serialization: ECDSA with the curve's hash over hashData,
        RFC 6979 deterministic, raw ``r||s`` (64 / 96 bytes).
        """
        return key.sign(hash_data)

    def proof_verification(self, hash_data: bytes, proof_bytes: bytes, key: KeyPair) -> None:
        """3.2.7 Proof Verification: ECDSA verify (high-S accepted).
        PROOF_VERIFICATION_ERROR.
        """
        key.verify(proof_bytes, hash_data)


SUITE = EcdsaRdfc2019()
