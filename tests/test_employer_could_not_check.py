""" "Could not check" is for the network, never "invalid": a holder key that cannot be fetched,
a verification's fetch budget or deadline used up. The SIJIL_VERIFY_* limits reach the
verifier the web app builds, and a key document is kept for an issuer outage."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _https import LocalServer, Route, TLSFiles, make_tls
from verifier_web_credentials import coa

from keys.dataintegrity import add_proof
from keys.didweb import build_did_document
from keys.fetch import FetchError, SafeFetcher
from keys.keypair import KeyPair
from keys.resolve import Resolver
from keys.stale import collect_stale_uses
from verifier.budget import VerificationLimits
from verifier.report import Verifier
from verifier.settings import SettingsError, VerifierSettings

CHALLENGE = "c-2026"
DOMAIN = "https://admissions.example.edu.my"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def server(tls: TLSFiles) -> Iterator[LocalServer]:
    with LocalServer(tls) as srv:
        yield srv


def _did(server: LocalServer, name: str) -> str:
    return f"did:web:localhost%3A{server.port}:{name}"


def _publish(server: LocalServer, name: str) -> KeyPair:
    did = _did(server, name)
    key = KeyPair.generate("Ed25519", id=f"{did}#key-1")
    server.routes[f"/{name}/did.json"] = Route.json(
        build_did_document(did, [key.public_only()]), media_type="application/did+json"
    )
    return key


def _credential(key: KeyPair, did: str) -> dict[str, Any]:
    doc = coa(key)
    doc["issuer"]["id"] = did
    assert key.id is not None
    return add_proof(doc, key, verification_method=key.id, created="2026-01-15T00:00:00Z")


def _presentation(holder: KeyPair, did: str, credentials: list[Any]) -> dict[str, Any]:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "verifiableCredential": credentials,
    }
    assert holder.id is not None
    return add_proof(
        doc,
        holder,
        verification_method=holder.id,
        proof_purpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
        created="2026-01-15T00:00:00Z",
    )


def _verifier(tls: TLSFiles, **kw: Any) -> Verifier:
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
    return Verifier(resolver=Resolver(fetcher), fetcher=fetcher, **kw)


def test_holder_key_that_cannot_be_fetched_reads_could_not_check(
    tls: TLSFiles, server: LocalServer
) -> None:
    issuer = _publish(server, "issuer")
    holder = _publish(server, "holder")
    vp = _presentation(
        holder, _did(server, "holder"), [_credential(issuer, _did(server, "issuer"))]
    )
    server.routes["/holder/did.json"] = Route(status=503, body=b"down")
    report = _verifier(tls).verify(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert report.checks["proof"].status == "unknown"
    assert report.verdict == "could_not_check"


def test_deadline_used_up_reads_could_not_check(tls: TLSFiles, server: LocalServer) -> None:
    issuer = _publish(server, "issuer")
    credential = _credential(issuer, _did(server, "issuer"))
    report = _verifier(tls, limits=VerificationLimits(deadline=1e-9)).verify(credential)
    assert report.verdict == "could_not_check"
    assert "VERIFICATION_DEADLINE_EXCEEDED" in report.checks["proof"].codes


def test_fetch_budget_used_up_reads_could_not_check(tls: TLSFiles, server: LocalServer) -> None:
    issuer = _publish(server, "issuer")
    holder = _publish(server, "holder")
    vp = _presentation(
        holder, _did(server, "holder"), [_credential(issuer, _did(server, "issuer"))]
    )
    report = _verifier(tls, limits=VerificationLimits(max_fetches=1)).verify(
        vp, challenge=CHALLENGE, domain=DOMAIN
    )
    assert report.verdict == "could_not_check"
    assert "FETCH_BUDGET_EXCEEDED" in report.parts[0].checks["proof"].codes
    assert server.requests == ["/holder/did.json"]


def test_verify_limits_come_from_the_environment() -> None:
    settings = VerifierSettings.from_env(
        {
            "SIJIL_VERIFY_MAX_FETCHES": "3",
            "SIJIL_VERIFY_DEADLINE": "2.5",
            "SIJIL_VERIFY_MAX_STATUS_ENTRIES": "2",
        }
    )
    verifier = settings.build_verifier()
    assert verifier.limits == VerificationLimits(max_fetches=3, deadline=2.5, max_status_entries=2)


def test_malformed_verify_limit_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as caught:
        VerifierSettings.from_env({"SIJIL_VERIFY_DEADLINE": "soon"})
    assert caught.value.code == "SETTINGS_ERROR"


def test_last_known_key_document_rides_out_an_outage(tls: TLSFiles, server: LocalServer) -> None:
    key = _publish(server, "issuer")
    assert key.id is not None
    clock = Clock()
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
    resolver = Resolver(fetcher, ttl=60, clock=clock, stale_max_age=3600)
    resolver.resolve_verification_method(key.id, "assertionMethod")
    good = copy.deepcopy(server.routes["/issuer/did.json"])
    server.routes["/issuer/did.json"] = Route(status=502, body=b"bad gateway")
    clock.now += 1800  # the fresh cache has expired; the last-known copy is 30 min old
    with collect_stale_uses() as uses:
        resolved, _doc = resolver.resolve_verification_method(key.id, "assertionMethod")
    assert resolved.public_key_multibase == key.public_key_multibase
    assert [(u.kind, round(u.age_seconds), u.cause) for u in uses] == [
        ("key_document", 1800, "FETCH_ERROR")
    ]
    clock.now += 3600  # older than stale_max_age: not used any more
    with pytest.raises(FetchError) as caught:
        resolver.resolve_verification_method(key.id, "assertionMethod")
    assert caught.value.code == "FETCH_ERROR"
    server.routes["/issuer/did.json"] = good


def test_key_document_never_fetched_has_no_last_known_copy(
    tls: TLSFiles, server: LocalServer
) -> None:
    key = _publish(server, "issuer")
    assert key.id is not None
    server.routes["/issuer/did.json"] = Route(status=503, body=b"down")
    resolver = Resolver(SafeFetcher(allow_local=True, cafile=tls.cafile), stale_max_age=3600)
    with collect_stale_uses() as uses, pytest.raises(FetchError) as caught:
        resolver.resolve_verification_method(key.id, "assertionMethod")
    assert caught.value.code == "FETCH_ERROR"
    assert uses == []


def test_page_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = VerifierSettings.from_env(
        {
            "SIJIL_STALE_MAX_AGE": "3600",
            "SIJIL_TRANSFER_POLICIES_DIR": str(tmp_path),
            "SIJIL_VERIFIER_OPERATOR": "  Universiti Penerima  ",
        }
    )
    assert settings.stale_max_age == 3600
    assert settings.transfer_policies_dir == tmp_path
    assert settings.operator == "Universiti Penerima"
    assert VerifierSettings.from_env({}).stale_max_age == 7 * 24 * 3600


def test_malformed_stale_max_age_is_a_settings_error() -> None:
    with pytest.raises(SettingsError):
        VerifierSettings.from_env({"SIJIL_STALE_MAX_AGE": "a week"})
