"""End to end over real HTTPS: a did:web issuer, its status list, revoke, verify again."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _https import LocalServer, Route, make_tls
from verifier_fixtures import Learner, build_coa, status_entry, status_list
from verifier_trust import trust_for

from keys.dataintegrity import add_proof
from keys.didweb import build_did_document
from keys.fetch import SafeFetcher
from keys.keypair import KeyPair
from keys.resolve import Resolver
from verifier.report import Verifier
from verifier.status import StatusListClient

AT = datetime(2026, 7, 1, tzinfo=UTC)
LEARNER = Learner("Farah binti Ismail", "farah@example.com", "salt-farah")


def _issuer_doc(doc: dict[str, Any], did: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["issuer"]["id"] = did
    return out


def test_did_web_issuer_and_status_over_https(tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    with LocalServer(tls) as server:
        did = f"did:web:localhost%3A{server.port}"
        key = KeyPair.generate("Ed25519", id=f"{did}#key-1", controller=did)
        server.routes["/.well-known/did.json"] = Route.json(
            build_did_document(did, [key.public_only()]), media_type="application/did+json"
        )
        list_url = server.url("/status/1")
        unsigned = _issuer_doc(build_coa(key, LEARNER, "DS601", "Data Ethics", serial=1), did)
        unsigned["credentialStatus"] = status_entry(list_url, 42)
        credential = _sign_web(unsigned, key)

        def publish(bits: list[int]) -> None:
            doc = status_list(key, list_url, set_bits=bits)
            body = {k: v for k, v in doc.items() if k != "proof"}
            body["issuer"] = did
            server.routes["/status/1"] = Route.json(_sign_web(body, key))

        fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
        resolver = Resolver(fetcher)

        def verify() -> str:
            client = StatusListClient(fetcher, resolver)  # fresh status cache each time
            verifier = Verifier(
                resolver=resolver, fetcher=fetcher, status_client=client, trust=trust_for(did)
            )
            report = verifier.verify(credential, at=AT)
            assert report.checks["issuer_binding"].status == "passed", report.to_dict()
            return report.verdict

        publish([])
        assert verify() == "valid"
        publish([42])
        assert verify() == "revoked"
        assert server.requests.count("/.well-known/did.json") == 1  # keys cached by TTL


def _sign_web(doc: dict[str, Any], key: KeyPair) -> dict[str, Any]:
    assert key.id is not None
    return add_proof(doc, key, verification_method=key.id, created="2026-01-15T00:00:00Z")
