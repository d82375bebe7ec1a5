"""Key pairs against the spec vectors: Multikey, JWK, Ed25519 and RFC 6979 ECDSA signatures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.errors import MalformedValueError, ParsingError, ProofVerificationError, SijilError
from keys import multibase
from keys.keypair import (
    SECRET_KEY_HEADERS,
    EcdsaKeyPair,
    Ed25519KeyPair,
    KeyPair,
    KeyType,
    MissingPrivateKeyError,
    load_keypair,
)

VECTORS = Path(__file__).resolve().parent / "vectors"

KEY_FILES = sorted(VECTORS.glob("**/*eyPair.json"))

# (directory, file-name suffix, key file) of every signed Ed25519 / ECDSA vector set.
SIGNATURE_SETS = [
    ("eddsa-rdfc-2022", "DataInt", "eddsa-rdfc-2022/keyPair.json"),
    ("eddsa-rdfc-2022/employ", "DataInt", "eddsa-rdfc-2022/keyPair.json"),
    ("eddsa-jcs-2022", "JCS", "eddsa-jcs-2022/keyPair.json"),
    ("ed25519signature2020-legacy", "EdSig", "ed25519signature2020-legacy/keyPair.json"),
    ("ecdsa-rdfc-2019/p256", "ECDSAP256", "ecdsa-rdfc-2019/p256/p256KeyPair.json"),
    ("ecdsa-rdfc-2019/p256/employ", "ECDSAP256", "ecdsa-rdfc-2019/p256/p256KeyPair.json"),
    ("ecdsa-rdfc-2019/p384", "ECDSAP384", "ecdsa-rdfc-2019/p384/p384KeyPair.json"),
    ("ecdsa-rdfc-2019/p384/employ", "ECDSAP384", "ecdsa-rdfc-2019/p384/p384KeyPair.json"),
    ("ecdsa-jcs-2019/p256", "JCSECDSAP256", "ecdsa-jcs-2019/p256/p256KeyPair.json"),
    ("ecdsa-jcs-2019/p384", "JCSECDSAP384", "ecdsa-jcs-2019/p384/p384KeyPair.json"),
]

CURVE_ORDERS = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}

KEY_TYPES: list[KeyType] = ["Ed25519", "P-256", "P-384"]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _hex_file(path: Path) -> bytes:
    return bytes.fromhex(path.read_text(encoding="utf-8").strip())


# -- key files ------------------------------------------------------------------------


def test_vector_key_files_found() -> None:
    assert len(KEY_FILES) >= 8


@pytest.mark.parametrize("path", KEY_FILES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_every_vector_key_file_loads_and_public_matches_secret(path: Path) -> None:
    doc = _json(path)
    key = load_keypair(path)
    assert key.has_private
    assert key.public_key_multibase == doc["publicKeyMultibase"]
    # The secret re-derives the same public key on its own.
    secret = doc.get("secretKeyMultibase", doc.get("privateKeyMultibase"))
    assert KeyPair.from_secret_multibase(secret).public_key_multibase == doc["publicKeyMultibase"]
    again = KeyPair.from_multikey(key.to_multikey(include_secret=True))
    assert again.secret_key_bytes() == key.secret_key_bytes()


def test_openbadges_64_byte_ed25519_secret_matches_hex() -> None:
    doc = _json(VECTORS / "openbadges-3.0" / "keyPair.json")
    key = KeyPair.from_multikey(doc)
    assert isinstance(key, Ed25519KeyPair)
    assert key.id == doc["id"]
    assert key.controller == doc["controller"]
    assert key.public_key_bytes.hex() == doc["publicKeyHex"]
    assert key.secret_key_bytes().hex() == doc["privateKeyHex"][:64]
    # We write the current 32-byte seed form.
    assert len(multibase.decode(key.secret_key_multibase())) == 2 + 32


def test_64_byte_ed25519_secret_with_foreign_public_half_rejected() -> None:
    doc = _json(VECTORS / "openbadges-3.0" / "keyPair.json")
    raw = bytearray(multibase.decode(doc["secretKeyMultibase"]))
    raw[-1] ^= 1
    with pytest.raises(MalformedValueError) as err:
        KeyPair.from_secret_multibase(multibase.encode(bytes(raw)))
    assert err.value.code == "MALFORMED_VALUE_ERROR"


def test_public_key_not_matching_secret_rejected() -> None:
    ed = _json(VECTORS / "eddsa-rdfc-2022" / "keyPair.json")
    other = _json(VECTORS / "openbadges-3.0" / "keyPair.json")
    with pytest.raises(MalformedValueError) as err:
        KeyPair.from_multikey(
            {
                "publicKeyMultibase": other["publicKeyMultibase"],
                "secretKeyMultibase": ed["privateKeyMultibase"],
            }
        )
    assert err.value.pointer == "/publicKeyMultibase"


def test_load_keypair_not_json_is_parsing_error(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ParsingError):
        load_keypair(path)
    with pytest.raises(ParsingError):
        load_keypair(tmp_path / "missing.json")


def test_multikey_without_any_key_rejected() -> None:
    with pytest.raises(MalformedValueError):
        KeyPair.from_multikey({"id": "x"})
    with pytest.raises(MalformedValueError):
        KeyPair.from_multikey({"type": "JsonWebKey", "publicKeyMultibase": "z6Mk"})


# -- CID Multikey examples ------------------------------------------------------------


CID_EXAMPLES = _json(VECTORS / "multikey" / "cid-multikey-examples.json")


@pytest.mark.parametrize(
    ("label", "key_type", "length"),
    [("A P-256", "P-256", 33), ("A P-384", "P-384", 49), ("An Ed25519", "Ed25519", 32)],
)
def test_cid_multikey_example_decodes(label: str, key_type: str, length: int) -> None:
    (example,) = [v for k, v in CID_EXAMPLES.items() if f"{label} public key" in k]
    key = KeyPair.from_multikey(example)
    assert key.key_type == key_type
    assert len(key.public_key_bytes) == length
    assert key.id == example["id"]
    assert key.controller == example["controller"]
    assert not key.has_private
    assert key.to_multikey() == {k: v for k, v in example.items() if k != "@context"}


@pytest.mark.parametrize("label", ["BLS12-381", "SM2"])
def test_cid_multikey_unsupported_multicodec_rejected(label: str) -> None:
    (example,) = [v for k, v in CID_EXAMPLES.items() if label in k]
    with pytest.raises(MalformedValueError) as err:
        KeyPair.from_multikey(example)
    assert err.value.code == "MALFORMED_VALUE_ERROR"


def test_public_key_wrong_length_rejected() -> None:
    with pytest.raises(MalformedValueError):
        KeyPair.from_public_multibase(multibase.encode(b"\xed\x01" + b"\x01" * 31))


def test_public_key_not_on_curve_rejected() -> None:
    with pytest.raises(MalformedValueError):
        KeyPair.from_public_multibase(multibase.encode(b"\x80\x24\x02" + b"\xff" * 32))


def test_public_key_base64url_multibase_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    raw = multibase.decode(key.public_key_multibase)
    with pytest.raises(MalformedValueError):
        KeyPair.from_public_multibase(multibase.encode(raw, "base64url"))


# -- did:key vectors: Multikey <-> JWK ------------------------------------------------


NIST = _json(VECTORS / "did-key" / "nist-curves.json")
NIST_JWK = {
    did: entry
    for did, entry in NIST.items()
    if entry["verificationMethod"]["type"] == "JsonWebKey2020"
    and entry["verificationMethod"]["publicKeyJwk"]["crv"] in ("P-256", "P-384")
}
NIST_P521 = {
    did: entry
    for did, entry in NIST.items()
    if entry["verificationMethod"].get("publicKeyJwk", {}).get("crv") == "P-521"
}


def test_nist_vector_selection() -> None:
    assert len(NIST_JWK) == 4
    assert len(NIST_P521) == 2


@pytest.mark.parametrize("did", sorted(NIST_JWK))
def test_nist_did_key_multikey_to_jwk(did: str) -> None:
    vm = NIST_JWK[did]["verificationMethod"]
    key = KeyPair.from_public_multibase(did.removeprefix("did:key:"))
    assert key.to_jwk() == vm["publicKeyJwk"]


@pytest.mark.parametrize("did", sorted(NIST_JWK))
def test_nist_did_key_private_jwk_to_multikey(did: str) -> None:
    vm = NIST_JWK[did]["verificationMethod"]
    key = KeyPair.from_jwk(vm["privateKeyJwk"])
    assert isinstance(key, EcdsaKeyPair)
    assert key.has_private
    assert key.public_key_multibase == did.removeprefix("did:key:")
    assert key.to_jwk(private=True) == vm["privateKeyJwk"]
    public = KeyPair.from_jwk(vm["publicKeyJwk"])
    assert not public.has_private
    assert public.public_key_multibase == key.public_key_multibase


@pytest.mark.parametrize("did", sorted(NIST_P521))
def test_nist_p521_unsupported(did: str) -> None:
    vm = NIST_P521[did]["verificationMethod"]
    with pytest.raises(MalformedValueError):
        KeyPair.from_public_multibase(did.removeprefix("did:key:"))
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk(vm["publicKeyJwk"])


def test_nist_p256key2021_base58_pair() -> None:
    (did,) = [d for d, e in NIST.items() if e["verificationMethod"]["type"] == "P256Key2021"]
    vm = NIST[did]["verificationMethod"]
    secret = SECRET_KEY_HEADERS["P-256"] + base58.b58decode(vm["privateKeyBase58"])
    key = KeyPair.from_secret_multibase(multibase.encode(secret))
    assert key.public_key_bytes == base58.b58decode(vm["publicKeyBase58"])
    assert "did:key:" + key.public_key_multibase == did


ED25519 = _json(VECTORS / "did-key" / "ed25519-x25519.json")


@pytest.mark.parametrize("did", list(ED25519)[:5])
def test_ed25519_did_key_from_seed(did: str) -> None:
    entry = ED25519[did]
    seed = bytes.fromhex(entry["seed"])
    key = KeyPair.from_secret_multibase(multibase.encode(SECRET_KEY_HEADERS["Ed25519"] + seed))
    assert "did:key:" + key.public_key_multibase == did
    vm = entry["verificationKeyPair"]
    if vm["type"] == "Ed25519VerificationKey2018":
        assert key.public_key_bytes == base58.b58decode(vm["publicKeyBase58"])
    else:
        assert vm["type"] == "JsonWebKey2020"
        assert key.to_jwk() == vm["publicKeyJwk"]
        assert key.to_jwk(private=True) == vm["privateKeyJwk"]
        assert (
            KeyPair.from_jwk(vm["privateKeyJwk"]).public_key_multibase == key.public_key_multibase
        )
    assert key.to_jwk()["x"] == multibase.encode(key.public_key_bytes, "base64url")[1:]


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_private_jwk_with_foreign_public_part_rejected(key_type: KeyType) -> None:
    jwk = KeyPair.generate(key_type).to_jwk(private=True)
    jwk["x"] = KeyPair.generate(key_type).to_jwk()["x"]
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk(jwk)


def test_jwk_of_other_kty_rejected() -> None:
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk({"kty": "oct", "k": "c2VjcmV0"})
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk({"kty": "OKP", "crv": "X25519", "x": "AAAA"})
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"})


# -- signatures against the vectors ---------------------------------------------------


@pytest.mark.parametrize(
    ("directory", "suffix", "key_file"), SIGNATURE_SETS, ids=[s[0] for s in SIGNATURE_SETS]
)
def test_sign_combined_hash_reproduces_sighex(directory: str, suffix: str, key_file: str) -> None:
    key = load_keypair(VECTORS / key_file)
    data = _hex_file(VECTORS / directory / f"combinedHash{suffix}.txt")
    expected = _hex_file(VECTORS / directory / f"sigHex{suffix}.txt")
    assert len(data) == (96 if key.key_type == "P-384" else 64)
    signature = key.sign(data)
    assert signature == expected
    key.public_only().verify(expected, data)
    btc58 = (VECTORS / directory / f"sigBTC58{suffix}.txt").read_text(encoding="utf-8").strip()
    assert multibase.encode(signature) == btc58


def test_openbadges_sign_reproduces_sighex() -> None:
    base = VECTORS / "openbadges-3.0"
    key = load_keypair(base / "keyPair.json")
    data = _hex_file(base / "combinedHash.txt")
    assert key.sign(data) == _hex_file(base / "sigHex.txt")
    assert multibase.encode(key.sign(data)) == (base / "proofValue.txt").read_text().strip()


def test_ecdsa_high_s_vectors_verify() -> None:
    high = 0
    for directory, suffix, key_file in SIGNATURE_SETS:
        key = load_keypair(VECTORS / key_file)
        if key.key_type == "Ed25519":
            continue
        sig = _hex_file(VECTORS / directory / f"sigHex{suffix}.txt")
        s = int.from_bytes(sig[len(sig) // 2 :], "big")
        if s > CURVE_ORDERS[key.key_type] // 2:
            high += 1
            key.verify(sig, _hex_file(VECTORS / directory / f"combinedHash{suffix}.txt"))
    assert high >= 3


@pytest.mark.parametrize(
    ("directory", "suffix", "key_file"), SIGNATURE_SETS, ids=[s[0] for s in SIGNATURE_SETS]
)
def test_vector_signature_over_other_data_rejected(
    directory: str, suffix: str, key_file: str
) -> None:
    key = load_keypair(VECTORS / key_file)
    data = bytearray(_hex_file(VECTORS / directory / f"combinedHash{suffix}.txt"))
    data[0] ^= 0x80
    with pytest.raises(ProofVerificationError) as err:
        key.verify(_hex_file(VECTORS / directory / f"sigHex{suffix}.txt"), bytes(data))
    assert err.value.code == "PROOF_VERIFICATION_ERROR"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_signature_wrong_length_rejected(key_type: KeyType) -> None:
    key = KeyPair.generate(key_type)
    sig = key.sign(b"data")
    with pytest.raises(ProofVerificationError):
        key.verify(sig + b"\x00", b"data")
    with pytest.raises(ProofVerificationError):
        key.verify(sig[:-1], b"data")


@pytest.mark.parametrize("key_type", KEY_TYPES)
@pytest.mark.parametrize("fill", [0x00, 0xFF])
def test_degenerate_signature_rejected(key_type: KeyType, fill: int) -> None:
    key = KeyPair.generate(key_type)
    with pytest.raises(ProofVerificationError):
        key.verify(bytes([fill]) * key.signature_length, b"data")


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_public_only_key_cannot_sign(key_type: KeyType) -> None:
    key = KeyPair.generate(key_type).public_only()
    with pytest.raises(MissingPrivateKeyError) as err:
        key.sign(b"data")
    assert err.value.code == "MISSING_PRIVATE_KEY"
    assert isinstance(err.value, SijilError)
    with pytest.raises(MissingPrivateKeyError):
        key.secret_key_multibase()
    with pytest.raises(MissingPrivateKeyError):
        key.to_multikey(include_secret=True)


def test_ecdsa_is_deterministic() -> None:
    key = KeyPair.generate("P-384")
    assert key.sign(b"same") == key.sign(b"same")
    assert key.signature_length == 96
    assert key.jose_alg == "ES384"
    assert key.hash_name == "sha384"


def test_repr_never_shows_secret() -> None:
    key = KeyPair.generate("Ed25519")
    assert key.secret_key_multibase() not in repr(key)
    assert key.secret_key_bytes().hex() not in repr(key)


def test_with_identity_keeps_key() -> None:
    key = KeyPair.generate("P-256")
    named = key.with_identity(id="did:web:example.com#k1", controller="did:web:example.com")
    assert named.id == "did:web:example.com#k1"
    assert named.controller == "did:web:example.com"
    assert named.has_private
    assert named.public_key_multibase == key.public_key_multibase
    assert named.sign(b"x") == key.sign(b"x")
    assert named != key


def test_generate_unknown_key_type_rejected() -> None:
    with pytest.raises(MalformedValueError):
        KeyPair.generate("P-521")  # type: ignore[arg-type]


# -- properties -----------------------------------------------------------------------

key_types = st.sampled_from(KEY_TYPES)


@settings(max_examples=30, deadline=None)
@given(key_type=key_types)
def test_property_multikey_round_trip(key_type: KeyType) -> None:
    key = KeyPair.generate(key_type, id="urn:k#1", controller="urn:k")
    doc = key.to_multikey(include_secret=True)
    again = KeyPair.from_multikey(doc)
    assert again == key
    assert again.secret_key_bytes() == key.secret_key_bytes()
    public = KeyPair.from_multikey(key.to_multikey())
    assert public == key
    assert not public.has_private


@settings(max_examples=30, deadline=None)
@given(key_type=key_types)
def test_property_jwk_round_trip(key_type: KeyType) -> None:
    key = KeyPair.generate(key_type)
    again = KeyPair.from_jwk(key.to_jwk(private=True))
    assert again.secret_key_bytes() == key.secret_key_bytes()
    assert KeyPair.from_jwk(key.to_jwk()).public_key_multibase == key.public_key_multibase
    assert "d" not in key.to_jwk()


@settings(max_examples=40, deadline=None)
@given(key_type=key_types, data=st.binary(max_size=200), bit=st.integers(min_value=0))
def test_property_sign_verify_and_flipped_bit_fails(
    key_type: KeyType, data: bytes, bit: int
) -> None:
    key = KeyPair.generate(key_type)
    sig = key.sign(data)
    assert len(sig) == key.signature_length
    key.public_only().verify(sig, data)
    flipped = bytearray(sig)
    flipped[(bit // 8) % len(sig)] ^= 1 << (bit % 8)
    with pytest.raises(ProofVerificationError):
        key.verify(bytes(flipped), data)
    if data:
        changed = bytearray(data)
        changed[(bit // 8) % len(data)] ^= 1 << (bit % 8)
        with pytest.raises(ProofVerificationError):
            key.verify(sig, bytes(changed))
