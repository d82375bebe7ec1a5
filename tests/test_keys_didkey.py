"""did:key resolution against the did-key vectors (Multikey-form DID documents)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contexts.errors import ContextNotPinnedError, MalformedValueError
from contexts.loader import document_loader
from keys import multibase
from keys.didkey import (
    MULTIKEY_CONTEXT,
    InvalidDidError,
    dereference_did_key,
    did_key_for,
    key_for_did_key,
    resolve_did_key,
)
from keys.keypair import KeyPair, load_keypair

VECTORS = Path(__file__).resolve().parent / "vectors"
GENERATED: dict[str, Any] = {
    k: v
    for k, v in json.loads(
        (VECTORS / "did-key" / "generated" / "multikey-did-documents.json").read_text()
    ).items()
    if not k.startswith("_")
}


def test_generated_vectors_present() -> None:
    assert len(GENERATED) == 8


@pytest.mark.parametrize("did", sorted(GENERATED))
def test_resolve_did_key_equals_generated_document(did: str) -> None:
    assert resolve_did_key(did) == GENERATED[did]


@pytest.mark.parametrize("did", sorted(GENERATED))
def test_did_url_dereferences_to_verification_method(did: str) -> None:
    mb = did.removeprefix("did:key:")
    vm = dereference_did_key(f"{did}#{mb}")
    assert vm == {"@context": MULTIKEY_CONTEXT, **GENERATED[did]["verificationMethod"][0]}
    assert dereference_did_key(did) == GENERATED[did]
    key = key_for_did_key(f"{did}#{mb}")
    assert key.id == f"{did}#{mb}"
    assert key.controller == did
    assert not key.has_private


def test_did_key_for_vector_key_pair() -> None:
    key = load_keypair(VECTORS / "eddsa-rdfc-2022" / "keyPair.json")
    assert did_key_for(key) == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "P-384"])
def test_generated_key_resolves(key_type: Any) -> None:
    key = KeyPair.generate(key_type)
    doc = resolve_did_key(did_key_for(key))
    assert doc["verificationMethod"][0]["publicKeyMultibase"] == key.public_key_multibase
    assert doc["assertionMethod"] == [doc["verificationMethod"][0]["id"]]


@pytest.mark.parametrize(
    "bad",
    [
        "did:web:example.com",
        "did:key:",
        "did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2/path",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2?query",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#other",  # foreign fragment
        (  # BLS12-381 G2
            "did:key:zUC7EK3ZakmukHhuncwkbySmomv3FmrkmS36E4Ks5rsb6VQSRpoCrx6Hb8e2Nk6UvJFSdyw9NK1"
            "scFXJp21gNNYFjVWNgaqyGnkyhtagagCpQb5B7tagJu3HDbjQ8h5ypoHjwBb"
        ),
        "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",  # X25519
    ],
)
def test_invalid_did_key_rejected(bad: str) -> None:
    with pytest.raises(InvalidDidError) as err:
        resolve_did_key(bad)
    assert err.value.code == "INVALID_DID"
    assert isinstance(err.value, MalformedValueError)


def test_base64url_did_key_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    raw = multibase.decode(key.public_key_multibase)
    with pytest.raises(InvalidDidError):
        resolve_did_key("did:key:" + multibase.encode(raw, "base64url"))


def test_document_loader_serves_did_key_offline() -> None:
    did = sorted(GENERATED)[0]
    mb = did.removeprefix("did:key:")
    assert document_loader(did)["document"] == GENERATED[did]
    vm = document_loader(f"{did}#{mb}")["document"]
    assert vm["@context"] == MULTIKEY_CONTEXT
    assert vm["publicKeyMultibase"] == mb


def test_document_loader_refuses_invalid_did_key() -> None:
    with pytest.raises(ContextNotPinnedError):
        document_loader("did:key:zNOTAKEY")
