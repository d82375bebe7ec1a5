"""SSRF through the verifier's entry points, not only the fetcher (``tests/test_keys_fetch.py``).

did:web key resolution, status-list fetching and the page's ``GET /verify?url=`` all go through
the one SSRF-guarded fetcher. Here a credential or a URL points them at private, loopback,
link-local and cloud-metadata addresses, directly, behind a public-looking name (a local
resolver maps the name, as split-horizon DNS or a hostile DNS answer would), and after a
redirect from an allowed server. Real local HTTPS servers stand in for the targets, so "refused"
is checked as "the server never saw the request", and a control run shows the same set-up is
reachable when the address is allowed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _https import LocalServer, Route, TLSFiles, make_tls
from verifier_fixtures import (
    Learner,
    build_coa,
    key_from_seed,
    status_entry,
    status_list,
    vm_of,
)
from verifier_trust import trust_for

from keys.dataintegrity import add_proof
from keys.didweb import build_did_document
from keys.fetch import SafeFetcher
from keys.keypair import KeyPair
from verifier.settings import VerifierSettings
from verifier.web import create_app

AT = datetime(2026, 7, 1, tzinfo=UTC)
LEARNER = Learner("Farah binti Ismail", "farah@example.com", "salt-farah")
FORBIDDEN = [
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.20",
    "127.0.0.1",
    "0.0.0.0",  # noqa: S104 - an address we refuse, not one we bind
    "100.64.0.1",
    "169.254.169.254",
    "fd00:ec2::254",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:127.0.0.1",
]

Resolve = Callable[[str, int], list[str]]


def _resolver(mapping: dict[str, list[str]]) -> Resolve:
    def resolve(host: str, port: int) -> list[str]:
        return mapping[host]

    return resolve


def _did_web_key(did: str) -> KeyPair:
    return KeyPair.generate("Ed25519", id=f"{did}#key-1", controller=did)


def _did_web_credential(
    did: str, *, key: KeyPair | None = None, status_url: str | None = None
) -> dict[str, Any]:
    key = key or _did_web_key(did)
    doc = build_coa(key, LEARNER, "DS601", "Data Ethics", serial=1)
    doc["issuer"]["id"] = did
    if status_url is not None:
        doc["credentialStatus"] = status_entry(status_url, 42)
    return add_proof(doc, key, verification_method=f"{did}#key-1", created="2026-01-15T00:00:00Z")


def _did_key_credential(key: KeyPair, status_url: str) -> dict[str, Any]:
    doc = build_coa(key, LEARNER, "DS601", "Data Ethics", serial=2)
    doc["credentialStatus"] = status_entry(status_url, 42)
    return add_proof(
        doc,
        key,
        verification_method=vm_of(key),
        created="2026-01-15T00:00:00Z",
    )


def _verify(fetcher: SafeFetcher, credential: dict[str, Any]) -> dict[str, Any]:
    verifier = VerifierSettings().build_verifier(fetcher=fetcher, trust=trust_for(credential))
    return dict(verifier.verify(credential, at=AT).to_dict())


def _error(report: dict[str, Any], check: str) -> dict[str, Any]:
    errors: list[dict[str, Any]] = [e for e in report["errors"] if e.get("check") == check]
    assert errors, report["errors"]
    return errors[0]


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path / "tls", names=("localhost", "issuer.example", "status.example"))


@pytest.fixture
def server(tls: TLSFiles) -> Iterator[LocalServer]:
    with LocalServer(tls) as srv:
        yield srv


# -- did:web: the issuer's key document ---------------------------------------------------


@pytest.mark.parametrize("address", FORBIDDEN)
def test_did_web_name_resolving_to_forbidden_address_is_refused(address: str) -> None:
    fetcher = SafeFetcher(resolve=_resolver({"issuer.example": [address]}))
    report = _verify(fetcher, _did_web_credential("did:web:issuer.example"))
    assert report["verdict"] == "invalid"
    assert report["checks"]["proof"]["codes"] == ["FETCH_FORBIDDEN_ADDRESS"]
    assert ipaddress.ip_address(_error(report, "proof")["address"]) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "did",
    [
        "did:web:169.254.169.254",
        "did:web:10.0.0.1",
        "did:web:127.0.0.1%3A8443",
        "did:web:localhost",
        "did:web:%5Bfd00%3Aec2%3A%3A254%5D",
    ],
)
def test_did_web_naming_a_forbidden_host_is_refused(did: str) -> None:
    fetcher = SafeFetcher(resolve=_resolver({"localhost": ["127.0.0.1"]}))
    report = _verify(fetcher, _did_web_credential(did))
    assert report["verdict"] == "invalid"
    assert report["checks"]["proof"]["status"] == "failed"
    assert set(report["checks"]["proof"]["codes"]) <= {
        "FETCH_FORBIDDEN_ADDRESS",
        "INVALID_VERIFICATION_METHOD",
        "INVALID_VERIFICATION_METHOD_URL",
    }


def test_public_looking_name_on_a_live_loopback_server_is_never_contacted(
    tls: TLSFiles, server: LocalServer
) -> None:
    did = f"did:web:issuer.example%3A{server.port}"
    key = _did_web_key(did)
    credential = _did_web_credential(did, key=key)
    server.routes["/.well-known/did.json"] = Route.json(
        build_did_document(did, [key.public_only()]), media_type="application/did+json"
    )
    resolve = _resolver({"issuer.example": ["127.0.0.1"]})

    refused = _verify(SafeFetcher(cafile=tls.cafile, resolve=resolve), credential)
    assert refused["checks"]["proof"]["codes"] == ["FETCH_FORBIDDEN_ADDRESS"]
    assert server.requests == []

    # Control: the very same name and server, with loopback allowed, verifies.
    allowed = _verify(SafeFetcher(allow_local=True, cafile=tls.cafile, resolve=resolve), credential)
    assert allowed["checks"]["proof"]["status"] == "passed", allowed["errors"]
    assert server.requests == ["/.well-known/did.json"]


@pytest.mark.parametrize("target", ["10.0.0.9", "169.254.169.254", "fd00:ec2::254"])
def test_did_web_redirect_to_forbidden_address_is_refused(
    tls: TLSFiles, server: LocalServer, target: str
) -> None:
    did = f"did:web:localhost%3A{server.port}"
    server.routes["/.well-known/did.json"] = Route.redirect("https://internal.test/did.json")
    resolve = _resolver({"localhost": ["127.0.0.1"], "internal.test": [target]})
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile, resolve=resolve)
    report = _verify(fetcher, _did_web_credential(did))
    assert report["checks"]["proof"]["codes"] == ["FETCH_FORBIDDEN_ADDRESS"]
    assert _error(report, "proof")["address"] == target
    assert server.requests == ["/.well-known/did.json"]


# -- status lists -------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["10.20.30.40", "169.254.169.254", "fd00:ec2::254", "::1"])
def test_status_list_behind_a_forbidden_address_is_not_fetched(address: str) -> None:
    key = key_from_seed(7)
    credential = _did_key_credential(key, "https://status.example/lists/1")
    fetcher = SafeFetcher(resolve=_resolver({"status.example": [address]}))
    report = _verify(fetcher, credential)
    assert report["checks"]["proof"]["status"] == "passed"
    assert report["checks"]["status"]["status"] == "unknown"
    assert report["checks"]["status"]["codes"] == ["STATUS_RETRIEVAL_ERROR"]
    assert report["verdict"] != "valid"
    assert "forbidden address" in _error(report, "status")["detail"]
    assert _error(report, "status")["cause"] == "FETCH_FORBIDDEN_ADDRESS"


def test_status_list_on_a_live_loopback_server_is_never_contacted(
    tls: TLSFiles, server: LocalServer
) -> None:
    key = key_from_seed(8)
    list_url = f"https://status.example:{server.port}/lists/1"
    server.routes["/lists/1"] = Route.json(status_list(key, list_url))
    credential = _did_key_credential(key, list_url)
    resolve = _resolver({"status.example": ["127.0.0.1"]})

    refused = _verify(SafeFetcher(cafile=tls.cafile, resolve=resolve), credential)
    assert refused["checks"]["status"]["codes"] == ["STATUS_RETRIEVAL_ERROR"]
    assert _error(refused, "status")["cause"] == "FETCH_FORBIDDEN_ADDRESS"
    assert server.requests == []

    allowed = _verify(SafeFetcher(allow_local=True, cafile=tls.cafile, resolve=resolve), credential)
    assert allowed["checks"]["status"]["status"] == "passed", allowed["errors"]
    assert allowed["verdict"] == "valid"
    assert server.requests == ["/lists/1"]


@pytest.mark.parametrize(
    "location",
    [
        "https://metadata.test/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://[::ffff:10.0.0.1]/x",
        "http://localhost:{port}/lists/2",  # https to http on the way
    ],
)
def test_status_list_redirect_to_forbidden_target_is_refused(
    tls: TLSFiles, server: LocalServer, location: str
) -> None:
    key = key_from_seed(9)
    list_url = server.url("/lists/1")
    server.routes["/lists/1"] = Route.redirect(location.format(port=server.port))
    server.routes["/lists/2"] = Route.json(status_list(key, list_url))
    resolve = _resolver({"localhost": ["127.0.0.1"], "metadata.test": ["169.254.169.254"]})
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile, resolve=resolve)
    report = _verify(fetcher, _did_key_credential(key, list_url))
    assert report["checks"]["status"]["codes"] == ["STATUS_RETRIEVAL_ERROR"]
    assert server.requests == ["/lists/1"]


def test_status_list_redirect_within_policy_is_followed(tls: TLSFiles, server: LocalServer) -> None:
    key = key_from_seed(10)
    list_url = server.url("/lists/1")
    server.routes["/lists/1"] = Route.redirect(server.url("/lists/2"))
    server.routes["/lists/2"] = Route.json(status_list(key, list_url))
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
    report = _verify(fetcher, _did_key_credential(key, list_url))
    assert report["checks"]["status"]["status"] == "passed", report["errors"]
    assert server.requests == ["/lists/1", "/lists/2"]


# -- the HTTP entry points ----------------------------------------------------------------


def _app(resolve: Resolve) -> Any:
    settings = VerifierSettings()
    return create_app(
        settings, verifier=settings.build_verifier(fetcher=SafeFetcher(resolve=resolve))
    )


def test_api_reports_did_web_ssrf_as_forbidden_address() -> None:
    app = _app(_resolver({"issuer.example": ["169.254.169.254"]}))
    response = app.test_client().post(
        "/credentials/verify",
        json={"verifiableCredential": _did_web_credential("did:web:issuer.example")},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    report = response.get_json()
    assert report["code"] == "FETCH_FORBIDDEN_ADDRESS"
    assert report["verified"] is False
    assert report["checks"]["proof"]["codes"] == ["FETCH_FORBIDDEN_ADDRESS"]


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://cred.example/c.json",
        "http://127.0.0.1:5000/credentials/x",
        "https://[::ffff:192.168.0.1]/c.json",
    ],
)
def test_verify_page_refuses_to_fetch_a_forbidden_url(url: str) -> None:
    app = _app(_resolver({"cred.example": ["10.9.8.7"]}))
    response = app.test_client().get("/verify", query_string={"url": url})
    assert response.status_code in (400, 403, 422), response.status_code
    assert "FETCH_FORBIDDEN_ADDRESS" in response.get_data(as_text=True)
