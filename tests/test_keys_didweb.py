"""did:web name mapping and DID document building."""

from __future__ import annotations

import json

import pytest

from contexts.errors import MalformedValueError
from keys.didkey import InvalidDidError
from keys.didweb import build_did_document, did_web_for, did_web_url
from keys.keypair import KeyPair

MAPPING = [
    ("did:web:example.com", "https://example.com/.well-known/did.json", "https://example.com"),
    (
        "did:web:w3c-ccg.github.io:user:alice",
        "https://w3c-ccg.github.io/user/alice/did.json",
        "https://w3c-ccg.github.io/user/alice",
    ),
    (
        "did:web:example.com%3A3000:user:alice",
        "https://example.com:3000/user/alice/did.json",
        "https://example.com:3000/user/alice",
    ),
    ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json", None),
    ("did:web:uni.example.my:issuers:1", "https://uni.example.my/issuers/1/did.json", None),
]


@pytest.mark.parametrize(("did", "url", "base"), MAPPING)
def test_did_web_url(did: str, url: str, base: str | None) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize(("did", "url", "base"), MAPPING)
def test_did_web_for_is_inverse(did: str, url: str, base: str | None) -> None:
    base = base or url.removesuffix("/.well-known/did.json").removesuffix("/did.json")
    assert did_web_for(base) == did
    assert did_web_for(base + "/") == did


def test_did_web_url_lower_cases_host_only() -> None:
    assert did_web_url("did:web:Example.COM:Users:Al") == "https://example.com/Users/Al/did.json"


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:",
        "did:web:example.com#key-1",
        "did:web:example.com/path",
        "did:web:example.com?x=1",
        "did:web:example.com:..:etc",
        "did:web:example.com::x",
        "did:web:exa_mple.com",
        "did:web:user@example.com",
        "did:web:example.com%3A99999",
        "did:web:example.com%3Aabc",
        "did:web:example.com%2Fevil",
        "did:web:-example.com",
    ],
)
def test_invalid_did_web_rejected(did: str) -> None:
    with pytest.raises(InvalidDidError) as err:
        did_web_url(did)
    assert err.value.code == "INVALID_DID"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://user:pw@example.com",
        "https://example.com/?q=1",
        "https://example.com/#frag",
        "https://example.com/.well-known/did.json",
        "https://example.com/u/did.json",
        "ftp://example.com",
    ],
)
def test_did_web_for_rejects(url: str) -> None:
    with pytest.raises(InvalidDidError):
        did_web_for(url)


def test_build_did_document_lists_every_key_newest_first() -> None:
    did = "did:web:uni.example.my"
    current = KeyPair.generate("Ed25519", id=f"{did}#key-2")
    retired = KeyPair.generate("P-256", id=f"{did}#key-1")
    unnamed = KeyPair.generate("P-384")
    doc = build_did_document(did, [current, retired, unnamed])
    ids = [f"{did}#key-2", f"{did}#key-1", f"{did}#{unnamed.public_key_multibase}"]
    assert doc == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key_multibase,
            }
            for vm_id, key in zip(ids, [current, retired, unnamed], strict=True)
        ],
        "assertionMethod": ids,
        "authentication": ids,
    }


def test_build_did_document_never_contains_secrets() -> None:
    keys = [KeyPair.generate(t) for t in ("Ed25519", "P-256", "P-384")]
    text = json.dumps(build_did_document("did:web:example.com", keys))
    for key in keys:
        assert key.secret_key_multibase() not in text
        assert "secretKeyMultibase" not in text


def test_build_did_document_custom_relationships() -> None:
    key = KeyPair.generate("Ed25519")
    doc = build_did_document("did:web:example.com", [key], relationships=["assertionMethod"])
    assert "authentication" not in doc
    assert doc["assertionMethod"] == [doc["verificationMethod"][0]["id"]]


def test_build_did_document_rejects_foreign_key_id() -> None:
    key = KeyPair.generate("Ed25519", id="did:web:other.example#key-1")
    with pytest.raises(MalformedValueError):
        build_did_document("did:web:example.com", [key])


def test_build_did_document_rejects_duplicate_ids() -> None:
    did = "did:web:example.com"
    keys = [KeyPair.generate("Ed25519", id=f"{did}#k"), KeyPair.generate("Ed25519", id=f"{did}#k")]
    with pytest.raises(MalformedValueError):
        build_did_document(did, keys)


def test_build_did_document_rejects_bad_did() -> None:
    with pytest.raises(InvalidDidError):
        build_did_document("did:web:bad host", [KeyPair.generate("Ed25519")])
    with pytest.raises(InvalidDidError):
        build_did_document("https://example.com", [KeyPair.generate("Ed25519")])
