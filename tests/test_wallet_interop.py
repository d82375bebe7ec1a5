"""Wallet delivery checked by the Learner Credential Wallet's own libraries.

``tests/interop/wallet.mjs`` builds the wallet's exchange from the packages the wallet ships
(``@digitalcredentials/vc``, ``ed25519-signature-2020``, ``did-method-key``): it follows an
interaction URL, answers the DIDAuth request with an ``Ed25519Signature2020`` presentation for a
fresh ``did:key``, and keeps what it receives. What it receives is then verified by
``@digitalcredentials/verifier-core`` (the wallet's verification library) and by the Digital
Bazaar stack, given only published contexts and the issuer's documents, and by sijil.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from interop_support import INTEROP_DIR, NodeVerifiers, node_verifiers
from wallet_clients import http
from wallet_support import Site, wallet_site

from issuer.services.issuers import did_document
from issuer.services.status import change_status
from issuer.wallet.offers import create_offer


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with wallet_site(tmp_path_factory.mktemp("wallet-interop")) as running:
        yield running


@pytest.fixture(scope="module")
def verifiers() -> NodeVerifiers:
    return node_verifiers()


def _lcw(verifiers: NodeVerifiers, interaction_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [verifiers.node, str(INTEROP_DIR / "wallet.mjs"), interaction_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=INTEROP_DIR,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _documents(site: Site, credentials: list[dict[str, Any]]) -> dict[str, Any]:
    """What a verifier would fetch: the issuer's DID document and the status lists."""
    document = did_document(site.rt)
    host = unquote(str(document["id"]).removeprefix("did:web:"))
    served: dict[str, Any] = {f"https://{host}/.well-known/did.json": document}
    for credential in credentials:
        status = credential["credentialStatus"]
        entries: list[dict[str, Any]] = status if isinstance(status, list) else [status]
        for entry in entries:
            url = str(entry["statusListCredential"])
            assert url.startswith(site.base)
            served[url] = http("GET", url).json()
    return served


def _verdicts(verifiers: NodeVerifiers, site: Site, credential: dict[str, Any]) -> dict[str, Any]:
    answer = verifiers.verify(
        [("delivered", credential)],
        _documents(site, [credential]),
        verifiers={"delivered": ["digitalbazaar", "verifierCore"]},
    )
    return answer.results["delivered"]


@pytest.mark.parametrize("bind", [False, True], ids=["direct", "holder_bound"])
def test_learner_credential_wallet_takes_the_offer_and_its_library_verifies_it(
    site: Site, verifiers: NodeVerifiers, bind: bool
) -> None:
    offer = site.offer("COA", bind_holder=bind)
    answer = _lcw(verifiers, offer.links.interaction_url)
    assert answer["status"] == 200, answer
    (credential,) = answer["body"]["verifiablePresentation"]["verifiableCredential"]
    if bind:
        assert answer["holder"].startswith("did:key:z6Mk")
        assert credential["credentialSubject"]["id"] == answer["holder"]
    else:
        assert answer["holder"] is None
    assert site.verify(credential).verified
    verdicts = _verdicts(verifiers, site, credential)
    assert verdicts["verifierCore"]["verdict"] == "valid", verdicts
    assert verdicts["digitalbazaar"]["verdict"] == "valid", verdicts


def test_revoking_the_award_revokes_the_wallets_copy_in_its_library(
    site: Site, verifiers: NodeVerifiers
) -> None:
    award = site.award("COC", learner="S1002")
    offer = create_offer(
        site.rt, learner=None, award_ids=[award.id], bind_holder=True, actor="test"
    )
    answer = _lcw(verifiers, offer.links.interaction_url)
    (credential,) = answer["body"]["verifiablePresentation"]["verifiableCredential"]
    change_status(site.rt, [award.id], "revoke", reason="issued in error", actor="test")
    assert site.verify(credential).verdict == "revoked"
    verdicts = _verdicts(verifiers, site, credential)
    assert verdicts["verifierCore"]["verdict"] == "revoked", verdicts
    assert verdicts["digitalbazaar"]["verdict"] == "revoked", verdicts
