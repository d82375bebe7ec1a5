"""The W3C cryptosuite vectors, step by step and end to end.

vc-di-eddsa 1.0 sections 3.2 (eddsa-rdfc-2022) and 3.3 (eddsa-jcs-2022), vc-di-ecdsa
1.0 sections 3.2 (ecdsa-rdfc-2019) and 3.3 (ecdsa-jcs-2019), each with its steps
Transformation, Proof Configuration, Hashing, Proof Serialization and Proof
Verification, then Create Proof (re-signing reproduces the signed vector byte for
byte: Ed25519 and RFC 6979 ECDSA are deterministic) and Verify Proof.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keys.dataintegrity import add_proof, get_suite, verify_proofs
from keys.dataintegrity.suite import decode_proof_value, encode_proof_value
from keys.keypair import KeyPair
from keys.resolve import Resolver

VECTORS = Path(__file__).resolve().parent / "vectors"


@dataclass(frozen=True)
class Vector:
    """One spec vector directory and its file names."""

    directory: str
    unsigned: str
    key: str
    suffix: str
    signed: str

    def path(self, name: str) -> Path:
        return VECTORS / self.directory / name

    def json(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.path(name).read_text(encoding="utf-8"))
        return data

    def text(self, stem: str) -> str:
        return self.path(f"{stem}{self.suffix}.txt").read_text(encoding="utf-8").strip()

    def raw(self, stem: str) -> bytes:
        return self.path(f"{stem}{self.suffix}.txt").read_bytes()

    def keypair(self) -> KeyPair:
        return KeyPair.from_multikey(self.json(self.key))

    def proof_config(self) -> dict[str, Any]:
        return self.json(f"proofConfig{self.suffix}.json")

    def options(self) -> dict[str, Any]:
        """The proof options: the vector's proof config without the ``@context`` it was
        given for canonicalization (the proof configuration step adds it back)."""
        return {k: v for k, v in self.proof_config().items() if k != "@context"}


VECTOR_SET = {
    "eddsa-rdfc-2022": Vector(
        "eddsa-rdfc-2022", "unsigned.json", "keyPair.json", "DataInt", "signedDataInt.json"
    ),
    "eddsa-rdfc-2022-employ": Vector(
        "eddsa-rdfc-2022/employ",
        "employmentAuth.json",
        "../keyPair.json",
        "DataInt",
        "signedDataInt.json",
    ),
    "eddsa-jcs-2022": Vector(
        "eddsa-jcs-2022", "unsigned.json", "keyPair.json", "JCS", "signedJCS.json"
    ),
    "ecdsa-rdfc-2019-p256": Vector(
        "ecdsa-rdfc-2019/p256",
        "unsigned.json",
        "p256KeyPair.json",
        "ECDSAP256",
        "signedECDSAP256.json",
    ),
    "ecdsa-rdfc-2019-p256-employ": Vector(
        "ecdsa-rdfc-2019/p256/employ",
        "employmentAuth.json",
        "../p256KeyPair.json",
        "ECDSAP256",
        "signedECDSAP256.json",
    ),
    "ecdsa-rdfc-2019-p384": Vector(
        "ecdsa-rdfc-2019/p384",
        "unsigned.json",
        "p384KeyPair.json",
        "ECDSAP384",
        "signedECDSAP384.json",
    ),
    "ecdsa-rdfc-2019-p384-employ": Vector(
        "ecdsa-rdfc-2019/p384/employ",
        "employmentAuth.json",
        "../p384KeyPair.json",
        "ECDSAP384",
        "signedECDSAP384.json",
    ),
    "ecdsa-jcs-2019-p256": Vector(
        "ecdsa-jcs-2019/p256",
        "unsigned.json",
        "p256KeyPair.json",
        "JCSECDSAP256",
        "signedJCSECDSAP256.json",
    ),
    "ecdsa-jcs-2019-p384": Vector(
        "ecdsa-jcs-2019/p384",
        "unsigned.json",
        "p384KeyPair.json",
        "JCSECDSAP384",
        "signedJCSECDSAP384.json",
    ),
}

ALL = pytest.mark.parametrize("vector", list(VECTOR_SET.values()), ids=list(VECTOR_SET))


def _hash(vector: Vector, data: bytes) -> str:
    name = "sha384" if "P384" in vector.suffix else "sha256"
    return hashlib.new(name, data).hexdigest()


@ALL
def test_transformation_gives_the_canonical_document(vector: Vector) -> None:
    """Transformation (3.2.3 / 3.3.3): RDFC-1.0 N-Quads or JCS, byte for byte."""
    suite = get_suite(vector.options()["cryptosuite"])
    out = suite.transformation(vector.json(vector.unsigned), vector.options(), vector.keypair())
    assert out == vector.raw("canonDoc")
    assert _hash(vector, out) == vector.text("docHash")


@ALL
def test_proof_configuration_gives_the_canonical_proof_options(vector: Vector) -> None:
    """Proof Configuration (3.2.5 / 3.3.5): options + the document's @context."""
    suite = get_suite(vector.options()["cryptosuite"])
    out = suite.proof_configuration(
        vector.options(), vector.json(vector.unsigned), vector.keypair()
    )
    assert out == vector.raw("proofCanon")
    assert _hash(vector, out) == vector.text("proofHash")


@ALL
def test_hashing_puts_the_proof_hash_first(vector: Vector) -> None:
    """Hashing (3.2.4 / 3.3.4): hash(proofConfig) || hash(document)."""
    suite = get_suite(vector.options()["cryptosuite"])
    hash_data = suite.hashing(vector.raw("canonDoc"), vector.raw("proofCanon"), vector.keypair())
    assert hash_data.hex() == vector.text("combinedHash")
    assert hash_data.hex() == vector.text("proofHash") + vector.text("docHash")


@ALL
def test_proof_serialization_reproduces_the_signature(vector: Vector) -> None:
    """Proof Serialization (3.2.6 / 3.3.6): Ed25519 and RFC 6979 ECDSA are exact."""
    suite = get_suite(vector.options()["cryptosuite"])
    signature = suite.proof_serialization(
        bytes.fromhex(vector.text("combinedHash")), vector.keypair()
    )
    assert signature.hex() == vector.text("sigHex")
    assert encode_proof_value(signature) == vector.text("sigBTC58")


@ALL
def test_proof_verification_accepts_the_vector_signature(vector: Vector) -> None:
    """Proof Verification (3.2.7 / 3.3.7) with the public key only (high-S included)."""
    suite = get_suite(vector.options()["cryptosuite"])
    public = vector.keypair().public_only()
    suite.proof_verification(
        bytes.fromhex(vector.text("combinedHash")), bytes.fromhex(vector.text("sigHex")), public
    )


@ALL
def test_sig_btc58_is_the_signed_proof_value(vector: Vector) -> None:
    proof_value = vector.json(vector.signed)["proof"]["proofValue"]
    assert proof_value == vector.text("sigBTC58")
    assert decode_proof_value(proof_value).hex() == vector.text("sigHex")


@ALL
def test_create_proof_reproduces_the_signed_vector(vector: Vector) -> None:
    """Create Proof (3.2.1 / 3.3.1) through add_proof: JSON-equal to signed*.json."""
    options = vector.options()
    signed = add_proof(
        vector.json(vector.unsigned),
        vector.keypair(),
        cryptosuite=options["cryptosuite"],
        created=options["created"],
        verification_method=options["verificationMethod"],
    )
    assert signed == vector.json(vector.signed)


@ALL
def test_create_proof_defaults_to_the_did_key_verification_method(vector: Vector) -> None:
    options = vector.options()
    signed = add_proof(
        vector.json(vector.unsigned),
        vector.keypair(),
        cryptosuite=options["cryptosuite"],
        created=options["created"],
    )
    # Every spec vector names did:key:X#X of its own key.
    assert signed == vector.json(vector.signed)


@ALL
def test_verify_proof_accepts_the_signed_vector(vector: Vector) -> None:
    """Verify Proof (3.2.2 / 3.3.2); the vectors' issuer is not the did:key signer."""
    signed = vector.json(vector.signed)
    results = verify_proofs(signed, Resolver(), issuer_binding=False)
    assert len(results) == 1
    result = results[0]
    assert result.cryptosuite == signed["proof"]["cryptosuite"]
    assert result.verification_method == signed["proof"]["verificationMethod"]
    assert result.controller == signed["proof"]["verificationMethod"].split("#")[0]
    assert result.key_type == vector.keypair().key_type
    assert result.created == "2023-02-24T23:36:38Z"
    assert result.to_dict()["verificationMethod"] == result.verification_method


@ALL
def test_fresh_sign_then_verify(vector: Vector) -> None:
    """A fresh key of the same type signs and verifies (not only the vector's)."""
    key = KeyPair.generate(vector.keypair().key_type)
    cryptosuite = vector.options()["cryptosuite"]
    signed = add_proof(vector.json(vector.unsigned), key, cryptosuite=cryptosuite)
    [result] = verify_proofs(signed, Resolver(), issuer_binding=False)
    assert result.key_type == key.key_type


def test_jcs_proof_keeps_the_document_context() -> None:
    """eddsa-jcs-2022 3.3.1: the attached proof carries @context; RDFC proofs do not."""
    vector = VECTOR_SET["eddsa-jcs-2022"]
    unsigned = vector.json(vector.unsigned)
    key = vector.keypair()
    jcs = add_proof(unsigned, key, cryptosuite="eddsa-jcs-2022")
    rdfc = add_proof(unsigned, key, cryptosuite="eddsa-rdfc-2022")
    assert jcs["proof"]["@context"] == unsigned["@context"]
    assert "@context" not in rdfc["proof"]


def test_rdfc_proof_with_its_own_context_still_verifies() -> None:
    """eddsa-rdfc-2022 3.2.5: the proof configuration's @context is always the
    document's, so an (ignored) @context in the attached proof changes nothing."""
    vector = VECTOR_SET["eddsa-rdfc-2022"]
    signed = vector.json(vector.signed)
    signed["proof"]["@context"] = signed["@context"]
    [result] = verify_proofs(signed, Resolver(), issuer_binding=False)
    assert result.cryptosuite == "eddsa-rdfc-2022"


def test_p384_rdfc_uses_sha384_for_blank_node_labels() -> None:
    """ecdsa-rdfc-2019 with P-384: RDFC-1.0 runs with SHA-384 (the employ vector's
    labels differ from the P-256 one's for the same document)."""
    p256 = VECTOR_SET["ecdsa-rdfc-2019-p256-employ"]
    p384 = VECTOR_SET["ecdsa-rdfc-2019-p384-employ"]
    assert p256.json(p256.unsigned) == p384.json(p384.unsigned)
    assert p256.raw("canonDoc") != p384.raw("canonDoc")
    suite = get_suite("ecdsa-rdfc-2019")
    doc = p384.json(p384.unsigned)
    assert suite.transformation(doc, p384.options(), p384.keypair()) == p384.raw("canonDoc")
    assert suite.transformation(doc, p256.options(), p256.keypair()) == p256.raw("canonDoc")
