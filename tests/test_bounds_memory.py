"""Bounded memory per verification: small controller documents, byte-bounded caches that drop
expired entries, and cache clocks that never make stale entries fresh.

The attack: did:web documents of 2 MiB (each parsed to ~48 MiB) cached 256 at a time. Now a
controller document over 64 KiB is refused while it downloads (``FETCH_TOO_LARGE``) and the
caches are bounded in bytes. The RSS figure for 50 such credentials is measured in
``bench/bench_bounds.py``; here a child process checks a generous bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _https import LocalServer, Route, TLSFiles, make_tls
from verifier_fixtures import key_from_seed, status_list

from keys.cache import ExpiringCache
from keys.didweb import build_did_document
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchResponse, ResponseTooLargeError, SafeFetcher
from keys.keypair import KeyPair
from keys.resolve import MAX_DOCUMENT_BYTES, Resolver
from verifier.fetchers import MappingFetcher
from verifier.status import StatusListClient

ROOT = Path(__file__).resolve().parent.parent


class PlainFetcher:
    """A fetcher that cannot cap a body while reading it (no ``scoped``)."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self._documents = documents

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        return self._documents[url]

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        body = json.dumps(self._documents[url]).encode()
        return FetchResponse(url=url, status=200, body=body)


class SteppingClock:
    """A clock tests move by hand, forwards or back."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def padded_did_document(did: str, key: KeyPair, size: int) -> dict[str, Any]:
    """A valid DID document padded with many small objects to about ``size`` bytes."""
    if did.startswith("did:"):
        doc = build_did_document(did, [key.public_only()])
    else:  # an https controller document: resolve_document only checks its id
        doc = {"id": did, "verificationMethod": []}
    entry = {"id": f"{did}#s0000000", "type": "X", "serviceEndpoint": "https://e.x"}
    count = size // (len(json.dumps(entry)) + 2)
    doc["service"] = [{**entry, "id": f"{did}#s{i:07d}"} for i in range(count)]
    return doc


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def server(tls: TLSFiles) -> Iterator[LocalServer]:
    with LocalServer(tls) as srv:
        yield srv


# --- controller document size cap ----------------------------------------------------------


def test_two_mib_did_web_document_is_refused_while_downloading(
    tls: TLSFiles, server: LocalServer
) -> None:
    did = f"did:web:localhost%3A{server.port}"
    key = KeyPair.generate("Ed25519", id=f"{did}#key-1", controller=did)
    server.routes["/.well-known/did.json"] = Route.json(
        padded_did_document(did, key, 2 * 1024 * 1024)
    )
    resolver = Resolver(SafeFetcher(allow_local=True, cafile=tls.cafile, max_bytes=4 << 20))
    with pytest.raises(ResponseTooLargeError):
        resolver.resolve_verification_method(f"{did}#key-1")
    assert resolver._cache.current_bytes == 0


def test_did_web_document_under_the_cap_resolves(tls: TLSFiles, server: LocalServer) -> None:
    did = f"did:web:localhost%3A{server.port}"
    key = KeyPair.generate("Ed25519", id=f"{did}#key-1", controller=did)
    doc = padded_did_document(did, key, MAX_DOCUMENT_BYTES // 2)
    server.routes["/.well-known/did.json"] = Route.json(doc)
    resolver = Resolver(SafeFetcher(allow_local=True, cafile=tls.cafile))
    found, _ = resolver.resolve_verification_method(f"{did}#key-1")
    assert found.public_key_multibase == key.public_key_multibase


def test_size_cap_applies_to_fetchers_that_cannot_cap_while_reading() -> None:
    key = KeyPair.generate("Ed25519")
    url = "https://big.example/controller"
    doc = padded_did_document(url, key, 2 * MAX_DOCUMENT_BYTES)
    doc["id"] = url
    with pytest.raises(ResponseTooLargeError):
        Resolver(PlainFetcher({url: doc})).resolve_document(url)


# --- byte-bounded caches -------------------------------------------------------------------


def test_resolver_cache_stays_under_its_byte_bound() -> None:
    docs: dict[str, Any] = {}
    for n in range(40):
        url = f"https://i{n}.example/o"
        doc = padded_did_document(url, KeyPair.generate("Ed25519"), 8 * 1024)
        doc["id"] = url
        docs[url] = doc
    resolver = Resolver(MappingFetcher(docs), max_cache_bytes=64 * 1024)
    for url in docs:
        resolver.resolve_document(url)
    assert 0 < resolver._cache.current_bytes <= 64 * 1024
    assert len(resolver._cache) < len(docs)


def test_expired_entries_are_dropped_on_write_not_kept() -> None:
    clock = SteppingClock()
    cache: ExpiringCache[str, str] = ExpiringCache(max_bytes=10_000, sizeof=len, clock=clock)
    cache.put("old", "x" * 1000, ttl=10)
    clock.now += 11
    cache.put("new", "y", ttl=10)
    assert len(cache) == 1
    assert cache.current_bytes == 1


def test_entry_larger_than_the_budget_is_not_stored() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(max_bytes=10, sizeof=len)
    cache.put("big", "x" * 11, ttl=60)
    assert cache.get("big") is None
    assert cache.current_bytes == 0


def test_cache_clock_stepping_back_expires_entries() -> None:
    clock = SteppingClock()
    cache: ExpiringCache[str, str] = ExpiringCache(max_bytes=100, sizeof=len, clock=clock)
    cache.put("k", "v", ttl=300)
    clock.now -= 3600  # the clock went back an hour
    assert cache.get("k") is None


# --- the status-list cache's clock ---------------------------------------------------------


def test_status_cache_clock_stepping_back_refetches_the_list() -> None:
    key = key_from_seed(21)
    url = "https://registry.example.edu.my/status/9"
    fetcher = MappingFetcher({url: status_list(key, url)})
    clock = SteppingClock()
    client = StatusListClient(fetcher, Resolver(), default_ttl=300, clock=clock)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    client.get_list(url, at=at)
    client.get_list(url, at=at)
    assert fetcher.requests == [url]
    clock.now -= 86_400  # wall-clock-like step back a day: the cached list is not trusted
    client.get_list(url, at=at)
    assert fetcher.requests == [url, url]
    clock.now += 86_400 + 301  # and forward past the TTL
    client.get_list(url, at=at)
    assert fetcher.requests == [url, url, url]


def test_status_cache_default_clock_is_monotonic() -> None:
    client = StatusListClient(MappingFetcher({}), Resolver())
    assert client._cache._clock is time.monotonic
    assert Resolver()._cache._clock is time.monotonic


# --- RSS of 50 verifications against 2 MiB did:web documents, in a child process -----------

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    sys.path.insert(0, sys.argv[1])
    from _https import LocalServer, Route, make_tls
    from pathlib import Path
    from keys.didweb import build_did_document
    from keys.dataintegrity import add_proof
    from keys.fetch import SafeFetcher
    from keys.keypair import KeyPair
    from verifier.report import Verifier
    from verifier_fixtures import Learner, build_coa

    tls = make_tls(Path(sys.argv[2]))
    learner = Learner("A", "a@example.com", "s")
    with LocalServer(tls) as server:
        pad = [
            {"id": "#s%d" % i, "type": "X", "serviceEndpoint": "https://e.x"}
            for i in range(50000)
        ]
        creds = []
        for n in range(50):
            did = "did:web:localhost%%3A%d:u:%d" % (server.port, n)
            key = KeyPair.generate("Ed25519", id=did + "#key-1", controller=did)
            doc = build_did_document(did, [key.public_only()])
            doc["service"] = pad
            server.routes["/u/%d/did.json" % n] = Route.json(doc)
            coa = build_coa(key, learner, "C%d" % n, "Course", serial=n + 1)
            coa["issuer"]["id"] = did
            creds.append(add_proof(coa, key, verification_method=did + "#key-1"))
        fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile, max_bytes=4 << 20)
        verifier = Verifier(fetcher=fetcher)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        codes = set()
        for cred in creds:
            report = verifier.verify(cred, check_schema=False)
            codes.update(report.checks["proof"].codes)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kib": before, "after_kib": after, "codes": sorted(codes)}))
    """
)


def test_rss_stays_bounded_verifying_50_credentials_with_2_mib_did_documents(
    tmp_path: Path,
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT / "tests"), str(tmp_path / "tls")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["codes"] == ["FETCH_TOO_LARGE"]
    # Before the cap each request grew RSS by ~100 MiB; now the documents are refused at
    # 64 KiB, so 50 verifications add little (the figure is in bench/bench_bounds.py).
    assert figures["after_kib"] - figures["before_kib"] < 64 * 1024
