"""``eddsa-rdfc-2022``: Ed25519 over RDFC-1.0 canonical N-Quads, SHA-256.

Spec: W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.2 "eddsa-rdfc-2022"
(3.2.1 Create Proof, 3.2.2 Verify Proof, 3.2.3 Transformation, 3.2.4 Hashing,
3.2.5 Proof Configuration, 3.2.6 Proof Serialization, 3.2.7 Proof Verification).
Vectors: ``vectors/eddsa-rdfc-2022/``, ``vectors/proof-sets-chains/``,
``vectors/openbadges-3.0/``, ``vectors/clr-2.0/``.
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

__all__ = ["SUITE", "EddsaRdfc2022"]


class EddsaRdfc2022(Cryptosuite):
    """The eddsa-rdfc-2022 cryptosuite (stateless; use :data:`SUITE`)."""

    name: ClassVar[str] = "eddsa-rdfc-2022"
    key_types: ClassVar[frozenset[str]] = frozenset({"Ed25519"})
    uses_rdf: ClassVar[bool] = True

    def transformation(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """3.2.3 Transformation: RDFC-1.0 canonical N-Quads of the document.

        PROOF_TRANSFORMATION_ERROR if ``options`` name another type or suite;
        DATA_LOSS_DETECTION_ERROR / CONTEXT_NOT_PINNED from canonicalization.
        """
        self.check_options(options, for_transformation=True)
        return rdfc_transformation(unsecured_document)

    def hashing(
        self, transformed_document: bytes, canonical_proof_config: bytes, key: KeyPair
    ) -> bytes:
        """3.2.4 Hashing: SHA-256(proofConfig) || SHA-256(document), 64 bytes."""
        return self.hash_pair(transformed_document, canonical_proof_config, "sha256")

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured_document: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """3.2.5 Proof Configuration: canonical N-Quads of the options with the
        document's ``@context``. INVALID_PROOF_CONFIGURATION, INVALID_PROOF_DATETIME.
        """
        self.check_options(options, for_transformation=False)
        return rdfc_proof_configuration(options, unsecured_document)

    def proof_serialization(self, hash_data: bytes, key: KeyPair) -> bytes:
        """3.2.6 Proof Serialization: Ed25519 (RFC 8032, pure) signature of hashData."""
        return key.sign(hash_data)

    def proof_verification(self, hash_data: bytes, proof_bytes: bytes, key: KeyPair) -> None:
        """3.2.7 Proof Verification: Ed25519 verify. PROOF_VERIFICATION_ERROR."""
        key.verify(proof_bytes, hash_data)


SUITE = EddsaRdfc2022()
