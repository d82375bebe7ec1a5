"""``eddsa-jcs-2022``: Ed25519 over RFC 8785 (JCS) canonical JSON, SHA-256.

Spec: W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.3 "eddsa-jcs-2022"
(3.3.1 Create Proof, 3.3.2 Verify Proof, 3.3.3 Transformation, 3.3.4 Hashing,
3.3.5 Proof Configuration, 3.3.6 Proof Serialization, 3.3.7 Proof Verification).
The attached proof keeps the document's ``@context`` (3.3.1), and a verifier hashes
the document with the proof's ``@context`` once it has checked that it is a prefix of
the document's (3.3.2). Vectors: ``vectors/eddsa-jcs-2022/``.
"""

from __future__ import annotations

from typing import ClassVar

from keys.dataintegrity.suite import JcsCryptosuite
from keys.keypair import KeyPair

__all__ = ["SUITE", "EddsaJcs2022"]


class EddsaJcs2022(JcsCryptosuite):
    """The eddsa-jcs-2022 cryptosuite (stateless; use :data:`SUITE`)."""

    name: ClassVar[str] = "eddsa-jcs-2022"
    key_types: ClassVar[frozenset[str]] = frozenset({"Ed25519"})

    def hashing(
        self, transformed_document: bytes, canonical_proof_config: bytes, key: KeyPair
    ) -> bytes:
        """3.3.4 Hashing: SHA-256(proofConfig) || SHA-256(document), 64 bytes."""
        return self.hash_pair(transformed_document, canonical_proof_config, "sha256")

    def proof_serialization(self, hash_data: bytes, key: KeyPair) -> bytes:
        """3.3.6 Proof Serialization: Ed25519 (RFC 8032, pure) signature of hashData."""
        return key.sign(hash_data)

    def proof_verification(self, hash_data: bytes, proof_bytes: bytes, key: KeyPair) -> None:
        """3.3.7 Proof Verification: Ed25519 verify. PROOF_VERIFICATION_ERROR."""
        key.verify(proof_bytes, hash_data)


SUITE = EddsaJcs2022()
