"""Verification method retrieval (CID 1.0 section 3.3) over did:key, pinned documents and
did:web / https controller documents served by a real local HTTPS server."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _https import LocalServer, Route, TLSFiles, make_tls

from contexts.errors import InvalidVerificationMethodError
from keys.didkey import did_key_for
from keys.didweb import build_did_document
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchResponse, ForbiddenAddressError, SafeFetcher
from keys.keypair import KeyPair, load_keypair
from keys.resolve import (
    InvalidControllerDocumentError,
    InvalidControllerDocumentIdError,
    InvalidRelationshipError,
    InvalidVerificationMethodUrlError,
    Resolver,
)

VECTORS = Path(__file__).resolve().parent / "vectors"
OB = VECTORS / "openbadges-3.0"


class DictFetcher:
    """The network, injected: serves fixed JSON documents by URL and counts requests."""

    def __init__(self, docs: dict[str, Any]) -> None:
        self.docs = docs
        self.requests: list[str] = []

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        self.requests.append(url)
        return copy.deepcopy(self.docs[url])

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        raise NotImplementedError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- did:key ---------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["assertionMethod", "authentication"])
def test_did_key_resolves_locally(purpose: str) -> None:
    key = load_keypair(VECTORS / "eddsa-rdfc-2022" / "keyPair.json")
    did = did_key_for(key)
    vm_id = f"{did}#{key.public_key_multibase}"
    resolved, doc = Resolver().resolve_verification_method(vm_id, purpose)
    assert resolved.public_key_multibase == key.public_key_multibase
    assert resolved.id == vm_id
    assert resolved.controller == did
    assert not resolved.has_private
    assert doc["id"] == did


def test_did_key_foreign_fragment_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    did = did_key_for(key)
    with pytest.raises(InvalidVerificationMethodError) as err:
        Resolver().resolve_verification_method(f"{did}#other", "assertionMethod")
    assert err.value.code == "INVALID_VERIFICATION_METHOD"


def test_did_key_key_agreement_not_authorized() -> None:
    did = did_key_for(KeyPair.generate("P-256"))
    with pytest.raises(InvalidRelationshipError) as err:
        Resolver().resolve_verification_method(f"{did}#{did[8:]}", "keyAgreement")
    assert err.value.code == "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"


def test_malformed_did_key_rejected() -> None:
    with pytest.raises(InvalidVerificationMethodUrlError):
        Resolver().resolve_verification_method("did:key:zBAD#zBAD", "assertionMethod")


@pytest.mark.parametrize(
    "vm_id",
    ["did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "https://x.example/k#", "urn:x#k"],
)
def test_unusable_vm_ids_rejected(vm_id: str) -> None:
    with pytest.raises(InvalidVerificationMethodUrlError) as err:
        Resolver().resolve_verification_method(vm_id, "assertionMethod")
    assert err.value.code == "INVALID_VERIFICATION_METHOD_URL"


def test_unknown_purpose_rejected() -> None:
    did = did_key_for(KeyPair.generate("Ed25519"))
    with pytest.raises(InvalidRelationshipError):
        Resolver().resolve_verification_method(f"{did}#{did[8:]}", "issuing")


# -- pinned documents (the 1EdTech OB 3.0 vector) -------------------------------------


def _ob_resolver() -> Resolver:
    resolver = Resolver()
    resolver.add_document(json.loads((OB / "controller-document.generated.json").read_text()))
    return resolver


def test_openbadges_vector_key_resolves_from_pinned_document() -> None:
    pair = load_keypair(OB / "keyPair.json")
    assert pair.id is not None
    key, doc = _ob_resolver().resolve_verification_method(pair.id, "assertionMethod")
    assert key.public_key_multibase == pair.public_key_multibase
    assert key.controller == "https://example.edu/issuers/565049"
    assert doc["id"] == key.controller


def test_openbadges_vector_key_not_authorized_for_authentication() -> None:
    pair = load_keypair(OB / "keyPair.json")
    assert pair.id is not None
    with pytest.raises(InvalidRelationshipError) as err:
        _ob_resolver().resolve_verification_method(pair.id, "authentication")
    assert isinstance(err.value, InvalidVerificationMethodError)
    assert err.value.extra["purpose"] == "authentication"


def test_https_controller_without_fetcher_rejected() -> None:
    with pytest.raises(InvalidVerificationMethodUrlError):
        Resolver().resolve_verification_method("https://example.edu/issuers/1#k", "assertionMethod")


def test_pinned_document_needs_id() -> None:
    with pytest.raises(InvalidControllerDocumentError):
        Resolver().add_document({"verificationMethod": []})
    with pytest.raises(InvalidControllerDocumentError):
        Resolver().add_document({"id": "https://x.example/a#b"})


def test_returned_document_is_a_copy() -> None:
    resolver = _ob_resolver()
    pair = load_keypair(OB / "keyPair.json")
    assert pair.id is not None
    _, doc = resolver.resolve_verification_method(pair.id, "assertionMethod")
    doc["assertionMethod"].clear()
    _, again = resolver.resolve_verification_method(pair.id, "assertionMethod")
    assert again["assertionMethod"] == [pair.id]


# -- controller document checks (injected network) ------------------------------------

CTRL = "https://issuer.example/org"


def _doc(key: KeyPair, **changes: Any) -> dict[str, Any]:
    vm = {
        "id": f"{CTRL}#k1",
        "type": "Multikey",
        "controller": CTRL,
        "publicKeyMultibase": key.public_key_multibase,
    }
    doc: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/cid/v1",
        "id": CTRL,
        "verificationMethod": [vm],
        "assertionMethod": [f"{CTRL}#k1"],
    }
    doc.update(changes)
    return doc


def _resolve(doc: dict[str, Any], purpose: str = "assertionMethod") -> KeyPair:
    resolver = Resolver(DictFetcher({CTRL: doc}))
    return resolver.resolve_verification_method(f"{CTRL}#k1", purpose)[0]


def test_https_controller_document_resolves() -> None:
    key = KeyPair.generate("P-256")
    assert _resolve(_doc(key)).public_key_multibase == key.public_key_multibase


def test_document_claiming_another_id_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    with pytest.raises(InvalidControllerDocumentIdError) as err:
        _resolve(_doc(key, id="https://victim.example/org"))
    assert err.value.code == "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID"


def test_method_controlled_by_someone_else_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _doc(key)
    doc["verificationMethod"][0]["controller"] = "https://attacker.example/"
    with pytest.raises(InvalidVerificationMethodError) as err:
        _resolve(doc)
    assert err.value.code == "INVALID_VERIFICATION_METHOD"


def test_method_not_listed_under_purpose_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    with pytest.raises(InvalidRelationshipError):
        _resolve(_doc(key, assertionMethod=[]))
    with pytest.raises(InvalidRelationshipError):
        _resolve(_doc(key), "authentication")


def test_method_missing_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    with pytest.raises(InvalidVerificationMethodError) as err:
        _resolve(_doc(key, verificationMethod=[]))
    assert err.value.code == "INVALID_VERIFICATION_METHOD"


def test_method_with_private_key_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _doc(key)
    doc["verificationMethod"][0]["secretKeyMultibase"] = key.secret_key_multibase()
    with pytest.raises(InvalidVerificationMethodError):
        _resolve(doc)


def test_method_with_unsupported_type_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _doc(key)
    doc["verificationMethod"][0]["type"] = "EcdsaSecp256k1VerificationKey2019"
    with pytest.raises(InvalidVerificationMethodError):
        _resolve(doc)


def test_method_with_invalid_key_rejected() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _doc(key)
    doc["verificationMethod"][0]["publicKeyMultibase"] = "z6MkBAD"
    with pytest.raises(InvalidVerificationMethodError):
        _resolve(doc)


def test_two_different_methods_with_one_id_rejected() -> None:
    key, other = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    doc = _doc(key)
    doc["verificationMethod"].append(
        dict(doc["verificationMethod"][0], publicKeyMultibase=other.public_key_multibase)
    )
    with pytest.raises(InvalidControllerDocumentError):
        _resolve(doc)


def test_embedded_method_under_purpose_resolves() -> None:
    key = KeyPair.generate("Ed25519")
    doc = _doc(key)
    doc["assertionMethod"] = [doc.pop("verificationMethod")[0]]
    assert _resolve(doc).public_key_multibase == key.public_key_multibase


def test_relative_ids_resolve() -> None:
    key = KeyPair.generate("P-384")
    doc = _doc(key, assertionMethod=["#k1"])
    doc["verificationMethod"][0]["id"] = "#k1"
    assert _resolve(doc).public_key_multibase == key.public_key_multibase


def test_json_web_key_method_resolves() -> None:
    key = KeyPair.generate("P-256")
    doc = _doc(key)
    vm = doc["verificationMethod"][0]
    del vm["publicKeyMultibase"]
    vm["type"] = "JsonWebKey"
    vm["publicKeyJwk"] = key.to_jwk()
    assert _resolve(doc).public_key_multibase == key.public_key_multibase
    vm["publicKeyJwk"] = key.to_jwk(private=True)
    with pytest.raises(InvalidVerificationMethodError):
        _resolve(doc)


def test_non_object_document_rejected() -> None:
    with pytest.raises(InvalidControllerDocumentError):
        Resolver(DictFetcher({CTRL: ["not", "an", "object"]})).resolve_verification_method(
            f"{CTRL}#k1", "assertionMethod"
        )


def test_cache_honours_ttl() -> None:
    key = KeyPair.generate("Ed25519")
    fetcher = DictFetcher({CTRL: _doc(key)})
    clock = FakeClock()
    resolver = Resolver(fetcher, ttl=60.0, clock=clock)
    resolver.resolve_verification_method(f"{CTRL}#k1", "assertionMethod")
    clock.now += 59
    resolver.resolve_verification_method(f"{CTRL}#k1", "assertionMethod")
    assert fetcher.requests == [CTRL]
    clock.now += 2
    resolver.resolve_verification_method(f"{CTRL}#k1", "assertionMethod")
    assert fetcher.requests == [CTRL, CTRL]
    resolver.clear_cache()
    resolver.resolve_verification_method(f"{CTRL}#k1", "assertionMethod")
    assert len(fetcher.requests) == 3


def test_cache_is_bounded_in_bytes() -> None:
    docs = {f"https://i{n}.example/o": _doc(KeyPair.generate("Ed25519")) for n in range(3)}
    for url, doc in docs.items():
        doc["id"] = url
    fetcher = DictFetcher(docs)
    size = len(json.dumps(docs["https://i0.example/o"], separators=(",", ":")))
    resolver = Resolver(fetcher, max_cache_bytes=size * 2 + size // 2)
    for url in docs:
        resolver.resolve_document(url)
    resolver.resolve_document("https://i0.example/o")
    assert fetcher.requests.count("https://i0.example/o") == 2


# -- did:web over real HTTPS ----------------------------------------------------------


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def server(tls: TLSFiles) -> Iterator[LocalServer]:
    with LocalServer(tls) as srv:
        yield srv


def test_did_web_resolves_over_https(tls: TLSFiles, server: LocalServer) -> None:
    did = f"did:web:localhost%3A{server.port}"
    current = KeyPair.generate("Ed25519", id=f"{did}#key-2")
    retired = KeyPair.generate("P-256", id=f"{did}#key-1")
    server.routes["/.well-known/did.json"] = Route.json(
        build_did_document(did, [current.public_only(), retired.public_only()]),
        media_type="application/did+json",
    )
    resolver = Resolver(SafeFetcher(allow_local=True, cafile=tls.cafile))
    for key in (current, retired):
        assert key.id is not None
        resolved, doc = resolver.resolve_verification_method(key.id, "assertionMethod")
        assert resolved.public_key_multibase == key.public_key_multibase
        assert resolved.controller == did
        assert doc["id"] == did
        sig = key.sign(b"credential")
        resolved.verify(sig, b"credential")
    assert server.requests == ["/.well-known/did.json"]


def test_did_web_with_path_resolves(tls: TLSFiles, server: LocalServer) -> None:
    did = f"did:web:localhost%3A{server.port}:issuers:faculty-1"
    key = KeyPair.generate("P-384", id=f"{did}#k")
    server.routes["/issuers/faculty-1/did.json"] = Route.json(build_did_document(did, [key]))
    resolver = Resolver(SafeFetcher(allow_local=True, cafile=tls.cafile))
    resolved, _ = resolver.resolve_verification_method(f"{did}#k", "authentication")
    assert resolved.public_key_multibase == key.public_key_multibase


def test_did_web_document_for_another_did_rejected(tls: TLSFiles, server: LocalServer) -> None:
    did = f"did:web:localhost%3A{server.port}"
    key = KeyPair.generate("Ed25519", id="did:web:victim.example#k")
    server.routes["/.well-known/did.json"] = Route.json(
        build_did_document("did:web:victim.example", [key])
    )
    resolver = Resolver(SafeFetcher(allow_local=True, cafile=tls.cafile))
    with pytest.raises(InvalidControllerDocumentIdError):
        resolver.resolve_verification_method(f"{did}#k", "assertionMethod")


def test_did_web_on_private_address_refused() -> None:
    fetcher = SafeFetcher(resolve=lambda host, port: ["192.168.0.10"])
    with pytest.raises(ForbiddenAddressError) as err:
        Resolver(fetcher).resolve_verification_method("did:web:issuer.example#k", "assertionMethod")
    assert err.value.code == "FETCH_FORBIDDEN_ADDRESS"
