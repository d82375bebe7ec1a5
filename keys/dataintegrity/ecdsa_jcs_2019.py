"""``ecdsa-jcs-2019``: ECDSA P-256 / P-384 over RFC 8785 (JCS) canonical JSON.

Spec: W3C "Data Integrity ECDSA Cryptosuites v1.0", section 3.3 "ecdsa-jcs-2019"
(3.3.1 Create Proof, 3.3.2 Verify Proof, 3.3.3 Transformation, 3.3.4 Hashing,
3.3.5 Proof Configuration, 3.3.6 Proof Serialization, 3.3.7 Proof Verification).
The attached proof keeps the document's ``@context`` (3.3.1), and a verifier hashes
the document with the proof's ``@context`` once it has checked that it is a prefix of
the document's (3.3.2). P-256 uses SHA-256, P-384 SHA-384; signatures are RFC 6979
raw ``r||s`` and verification accepts high-S. Vectors: ``vectors/ecdsa-jcs-2019/``.
"""

from __future__ import annotations

from typing import ClassVar

from keys.dataintegrity.suite import JcsCryptosuite
from keys.keypair import KeyPair

__all__ = ["SUITE", "EcdsaJcs2019"]


class EcdsaJcs2019(JcsCryptosuite):
    """The ecdsa-jcs-2019 cryptosuite (stateless; use :data:`SUITE`)."""

    name: ClassVar[str] = "ecdsa-jcs-2019"
    key_types: ClassVar[frozenset[str]] = frozenset({"P-256", "P-384"})

    def hashing(
        self, transformed_document: bytes, canonical_proof_config: bytes, key: KeyPair
    ) -> bytes:
        """3.3.4 Hashing: H(proofConfig) || H(document), H = SHA-256 for P-256 and
        SHA-384 for P-384.
        """
        return self.hash_pair(transformed_document, canonical_proof_config, key.hash_name)

    def proof_serialization(self, hash_data: bytes, key: KeyPair) -> bytes:
        """3.3.6 Proof Serialization: ECDSA with the curve's hash over hashData,
        RFC 6979 deterministic, raw ``r||s``.
        """
        return key.sign(hash_data)

    def proof_verification(self, hash_data: bytes, proof_bytes: bytes, key: KeyPair) -> None:
        """3.3.7 Proof Verification: ECDSA verify (high-S accepted).
        PROOF_VERIFICATION_ERROR.
        """
        key.verify(proof_bytes, hash_data)


SUITE = EcdsaJcs2019()
