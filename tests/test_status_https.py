"""End to end over real sockets: the issuer on local HTTPS, the HTTP verifier fetching its lists.

Issue (demo, status lists on) -> verify (valid) -> revoke -> verify (revoked); suspend and
unsuspend flip the verdict both ways. Then the list URL answering 500, a tampered list and a
list signed by another key each give "could not check status" with BSL's codes. The verifier's
status cache honours the list's ``ttl``; its clock is injected and moved past it between steps.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _https import make_tls
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.devserver import ServerThread
from issuer.services.awards import list_awards
from issuer.services.demo import seed_demo
from issuer.services.issuance import own_issuers
from issuer.services.status import install_status_lists, set_suspension_enabled
from keys.dataintegrity import add_proof
from keys.fetch import SafeFetcher
from keys.keypair import KeyPair
from keys.resolve import Resolver
from verifier.report import Verifier
from verifier.settings import VerifierSettings
from verifier.status import StatusListClient
from verifier.web.app import create_app as create_verifier_app


@dataclass
class _Issuer:
    """The issuer app behind a switch that can break ``/status/*`` answers."""

    app: Any = None
    mode: str = "honest"
    other_key: KeyPair = field(default_factory=KeyPair.generate)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.mode == "honest" or not environ.get("PATH_INFO", "").startswith("/status/"):
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        if self.mode == "error":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        with self.app.test_client() as client:
            doc = json.loads(client.get(environ["PATH_INFO"]).get_data())
        if self.mode == "tampered":
            encoded = doc["credentialSubject"]["encodedList"]
            doc["credentialSubject"]["encodedList"] = encoded[:-4] + (
                "AAAA" if encoded[-4:] != "AAAA" else "BBBB"
            )
        else:  # signed by another key, claiming the issuer's verification method
            vm = doc["proof"]["verificationMethod"]
            unsigned = {k: v for k, v in doc.items() if k != "proof"}
            doc = add_proof(unsigned, self.other_key, verification_method=vm)
        start_response("200 OK", [("Content-Type", "application/vc+ld+json")])
        return [json.dumps(doc).encode()]


@dataclass
class _Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    web: WebIssuer
    issuer: _Issuer
    verifier_url: str
    clock: _Clock


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    tls = make_tls(tmp_path / "tls")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tls.certfile, tls.keyfile)
    switch = _Issuer()
    issuer_server = ServerThread(switch, "127.0.0.1", 0, ssl_context=server_ctx)
    base = f"https://localhost:{issuer_server.port}"
    clock = _Clock()
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
    resolver = Resolver(fetcher)
    verifier = Verifier(
        resolver=resolver,
        fetcher=fetcher,
        status_client=StatusListClient(fetcher, resolver, clock=clock),
    )
    verifier_app = create_verifier_app(VerifierSettings.from_env({}), verifier=verifier)
    verifier_server = ServerThread(verifier_app, "127.0.0.1", 0)
    with web_issuer(tmp_path / "instance", base_url=base) as web:
        install_status_lists(web.rt)
        seed_demo(web.rt)
        verifier.trust = own_issuers(web.rt)  # the verifier recognises the demo issuer
        switch.app = web.app
        issuer_server.start()
        verifier_server.start()
        try:
            yield Setup(web, switch, f"http://127.0.0.1:{verifier_server.port}", clock)
        finally:
            verifier_server.stop()
            issuer_server.stop()


def _verify(setup: Setup, credential: dict[str, Any]) -> dict[str, Any]:
    setup.clock.now += 120.0  # past the list's ttl (60 s): the verifier fetches again
    request = urllib.request.Request(
        setup.verifier_url + "/credentials/verify",
        data=json.dumps({"verifiableCredential": credential}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
    return body


def _admin(setup: Setup, path: str, reason: str) -> None:
    client = setup.web.client()
    answer = client.post(path, json={"reason": reason}, headers=auth(setup.web.tokens["admin"]))
    assert answer.status_code == 200, answer.get_json()


def _codes(report: dict[str, Any]) -> set[str]:
    return {str(e["code"]) for e in report["errors"]}


def test_issue_verify_revoke_verify_over_https(setup: Setup) -> None:
    award = list_awards(setup.web.rt, learner="S1001", award_type="COA")[0]
    assert _verify(setup, award.credential())["verdict"] == "valid"
    _admin(setup, f"/awards/{award.id}/revoke", "issued in error")
    report = _verify(setup, award.credential())
    assert report["verdict"] == "revoked"
    assert "CREDENTIAL_REVOKED" in _codes(report)


def _set_status(setup: Setup, credential_id: str, purpose: str, value: bool) -> None:
    answer = setup.web.client().post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": [
                {"type": "BitstringStatusListEntry", "status": value, "statusPurpose": purpose}
            ],
        },
        headers=auth(setup.web.tokens["issue"]),
    )
    assert answer.status_code == 200, answer.get_json()


def test_suspend_and_unsuspend_flip_the_http_verdict(setup: Setup) -> None:
    # Suspension is an issuer's opt-in: a second status entry is fine for a plain VC, though
    # the Open Badges 3.0 schema allows one only (so awards stay revocation-only by default).
    set_suspension_enabled(setup.web.rt, None, True, actor="test")
    issued = setup.web.client().post(
        "/credentials/issue",
        json={
            "credential": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": "urn:uuid:suspendable-1",
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:learner"},
            }
        },
        headers=auth(setup.web.tokens["issue"]),
    )
    assert issued.status_code == 201, issued.get_json()
    credential = issued.get_json()["verifiableCredential"]
    assert [e["statusPurpose"] for e in credential["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    assert _verify(setup, credential)["verdict"] == "valid"
    _set_status(setup, "urn:uuid:suspendable-1", "suspension", True)
    assert _verify(setup, credential)["verdict"] == "suspended"
    _set_status(setup, "urn:uuid:suspendable-1", "suspension", False)
    assert _verify(setup, credential)["verdict"] == "valid"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("error", "STATUS_RETRIEVAL_ERROR"),
        ("tampered", "STATUS_VERIFICATION_ERROR"),
        ("other_key", "STATUS_VERIFICATION_ERROR"),
    ],
)
def test_unusable_list_gives_could_not_check_status(setup: Setup, mode: str, code: str) -> None:
    award = list_awards(setup.web.rt, learner="S1001", award_type="COC")[0]
    setup.issuer.mode = mode
    report = _verify(setup, award.credential())
    assert report["verified"] is False
    assert report["verdict"] == "status_unknown"
    assert code in _codes(report)
