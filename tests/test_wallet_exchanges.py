"""Wallet delivery end to end over real HTTP: VC-API exchanges and OpenID4VCI 1.0.

The issuer (demo seeded, SQLite) is served on a loopback port that is also its base URL, so the
wallet clients of ``tests/wallet_clients.py`` follow the URLs the issuer hands out. Each refusal
the protocols define is driven for real, and each is checked to issue nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from wallet_clients import Oid4vciWallet, VcApiWallet, http, sign_ed25519_2020
from wallet_support import Site, wallet_site

from issuer.delivery.claims import make_claim_token
from issuer.services.awards import list_awards
from issuer.services.status import change_status
from issuer.wallet.binding import deliveries_of
from issuer.wallet.offers import CreatedOffer, create_offer


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with wallet_site(tmp_path_factory.mktemp("wallet")) as running:
        yield running


def test_interaction_url_lists_both_protocols_and_explains_itself_to_people(site: Site) -> None:
    offer = site.offer("COA")
    assert offer.links.interaction_url.endswith("?iuv=1")
    answer = http("GET", offer.links.interaction_url, headers={"Accept": "application/json"})
    assert answer.status == 200
    assert answer.json() == {
        "protocols": {
            "vcapi": offer.links.exchange_url,
            "oid4vci-1.0": offer.links.credential_offer_uri,
        }
    }
    page = http("GET", offer.links.interaction_url, headers={"Accept": "text/html"})
    assert page.status == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "wallet" in page.text
    assert "dompet" in page.text
    assert "lcw.app/request?request=" in page.text


def test_direct_exchange_delivers_the_award_once(site: Site) -> None:
    offer = site.offer("COA")
    wallet = VcApiWallet()
    answer = wallet.run(offer.links.interaction_url)
    assert answer.status == 200, answer.text
    (credential,) = wallet.stored
    assert credential["id"] == site.award("COA").credential_id
    report = site.verify(credential)
    assert report.verified, report.to_dict()["errors"]
    replay = http("POST", offer.links.exchange_url, json_body={})
    assert (replay.status, replay.json()["code"]) == (409, "EXCHANGE_COMPLETE")


def test_holder_bound_exchange_binds_the_award_to_the_wallet_did(site: Site) -> None:
    before = site.deliveries()
    offer = site.offer("COA", bind_holder=True)
    wallet = VcApiWallet()
    answer = wallet.run(offer.links.interaction_url)
    assert answer.status == 200, answer.text
    (credential,) = wallet.stored
    assert credential["credentialSubject"]["id"] == wallet.did
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert (
        credential["credentialStatus"]
        == json.loads(site.award("COA").credential_json)["credentialStatus"]
    )
    report = site.verify(credential)
    assert report.verified, report.to_dict()["errors"]
    assert site.deliveries() == before + 1
    received = deliveries_of(site.rt, site.award("COA").id)
    assert any(d["holder"] == wallet.did and d["protocol"] == "vcapi" for d in received)


def test_holder_bound_mms_still_stacks(site: Site) -> None:
    offer = site.offer("MMS", bind_holder=True)
    wallet = VcApiWallet()
    assert wallet.run(offer.links.interaction_url).status == 200
    (statement,) = wallet.stored
    assert statement["credentialSubject"]["id"] == wallet.did
    report = site.verify(statement)
    assert report.verified, report.to_dict()["errors"]
    assert report.checks["stacking"].status == "passed"


def test_legacy_deep_link_form_posts_the_bare_presentation(site: Site) -> None:
    offer = site.offer("COC", bind_holder=True)
    assert offer.links.lcw_legacy_request is not None
    query = dict(re.findall(r"([a-z_]+)=([^&]+)", offer.links.lcw_legacy_request.split("?", 1)[1]))
    assert query["auth_type"] == "bearer"
    wallet = VcApiWallet()
    import urllib.parse

    challenge = urllib.parse.unquote(query["challenge"])
    url = urllib.parse.unquote(query["vc_request_url"])
    presentation = wallet.did_auth({"challenge": challenge}, wrapped=False)
    answer = http("POST", url, json_body=presentation)
    assert answer.status == 200, answer.text
    (credential,) = answer.json()["verifiablePresentation"]["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == wallet.did


def _request_for(site: Site, offer: CreatedOffer) -> dict[str, Any]:
    answer = http("POST", offer.links.exchange_url, json_body={})
    assert answer.status == 200
    return dict(answer.json()["verifiablePresentationRequest"])


def test_wrong_challenge_issues_nothing(site: Site) -> None:
    offer = site.offer("COA", bind_holder=True)
    request = _request_for(site, offer)
    wallet = VcApiWallet()
    forged = wallet.did_auth({**request, "challenge": "not-the-challenge"})
    before = site.deliveries()
    answer = http("POST", offer.links.exchange_url, json_body={"verifiablePresentation": forged})
    assert (answer.status, answer.json()["code"]) == (422, "INVALID_CHALLENGE_ERROR")
    assert site.deliveries() == before
    # the exchange stays open for the real wallet
    good = wallet.did_auth(request)
    ok = http("POST", offer.links.exchange_url, json_body={"verifiablePresentation": good})
    assert ok.status == 200


def test_wrong_domain_issues_nothing(site: Site) -> None:
    offer = site.offer("COA", bind_holder=True)
    request = _request_for(site, offer)
    forged = VcApiWallet().did_auth({**request, "domain": "evil.example"})
    answer = http("POST", offer.links.exchange_url, json_body={"verifiablePresentation": forged})
    assert (answer.status, answer.json()["code"]) == (422, "INVALID_DOMAIN_ERROR")


def test_presentation_signed_by_another_key_issues_nothing(site: Site) -> None:
    offer = site.offer("COA", bind_holder=True)
    request = _request_for(site, offer)
    holder, signer = VcApiWallet(), VcApiWallet()
    presentation = sign_ed25519_2020(
        {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "holder": holder.did,
        },
        signer.key,
        verification_method=signer.verification_method,
        purpose="authentication",
        challenge=request["challenge"],
        domain=request["domain"],
    )
    before = site.deliveries()
    answer = http(
        "POST", offer.links.exchange_url, json_body={"verifiablePresentation": presentation}
    )
    assert (answer.status, answer.json()["code"]) == (400, "INVALID_PRESENTATION")
    assert site.deliveries() == before


def test_tampered_presentation_issues_nothing(site: Site) -> None:
    offer = site.offer("COA", bind_holder=True)
    request = _request_for(site, offer)
    wallet = VcApiWallet()
    presentation = wallet.did_auth(request)
    presentation["proof"]["created"] = "2020-01-01T00:00:00Z"
    answer = http(
        "POST", offer.links.exchange_url, json_body={"verifiablePresentation": presentation}
    )
    assert (answer.status, answer.json()["code"]) == (422, "PROOF_VERIFICATION_ERROR")


def test_expired_offer_issues_nothing(site: Site) -> None:
    offer = site.offer("COA", lifetime=timedelta(seconds=-1))
    answer = http("POST", offer.links.exchange_url, json_body={})
    assert (answer.status, answer.json()["code"]) == (410, "OFFER_EXPIRED")
    wallet = Oid4vciWallet()
    stale = http("GET", offer.links.credential_offer_url)
    assert stale.status == 410
    del wallet


def test_oid4vci_wallet_receives_ldp_vc_and_jwt_vc_json_bound_to_its_keys(site: Site) -> None:
    offer = site.offer("COA", with_tx_code=True)
    assert offer.tx_code is not None
    assert len(offer.tx_code) == 6
    wallet = Oid4vciWallet()
    answers = wallet.run(offer.links.credential_offer_uri, offer.tx_code)
    assert [a.status for a in answers] == [200, 200], [a.text for a in answers]
    (ldp,) = wallet.credentials["OpenBadgeCredential_ldp_vc"]
    (jwt,) = wallet.credentials["OpenBadgeCredential_jwt_vc_json"]
    assert ldp["credentialSubject"]["id"] == wallet.did
    assert isinstance(jwt, str)
    assert jwt.count(".") == 2
    for credential in (ldp, jwt):
        report = site.verify(credential)
        assert report.verified, report.to_dict()["errors"]
    jwt_report = site.verify(jwt)
    assert jwt_report.document is not None
    assert jwt_report.document["credentialSubject"]["id"].startswith("did:jwk:")


def test_oid4vci_metadata_lists_configurations_from_the_format_registry(site: Site) -> None:
    metadata = Oid4vciWallet.metadata(site.base)
    configs = metadata["credential_configurations_supported"]
    assert configs["OpenBadgeCredential_ldp_vc"]["credential_signing_alg_values_supported"] == [
        "eddsa-rdfc-2022"
    ]
    assert configs["OpenBadgeCredential_jwt_vc_json"]["format"] == "jwt_vc_json"
    assert metadata["nonce_endpoint"].startswith(site.base)


def _token(site: Site, offer: CreatedOffer, tx_code: str | None) -> Any:
    query = offer.links.credential_offer_uri
    grant = Oid4vciWallet.offer(query)["grants"][
        "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    ]
    return Oid4vciWallet.token(site.base, grant["pre-authorized_code"], tx_code)


def test_reused_pre_authorized_code_is_invalid_grant(site: Site) -> None:
    offer = site.offer("COA")
    first = _token(site, offer, None)
    assert first.status == 200
    again = _token(site, offer, None)
    assert (again.status, again.json()["error"]) == (400, "invalid_grant")
    # the replay withdrew the first token: it obtains nothing now
    wallet = Oid4vciWallet()
    metadata = Oid4vciWallet.metadata(site.base)
    answer = wallet.request(
        metadata, first.json()["access_token"], "OpenBadgeCredential_ldp_vc", alg="EdDSA"
    )
    assert (answer.status, answer.json()["error"]) == (401, "invalid_token")


def test_wrong_transaction_code_is_invalid_grant(site: Site) -> None:
    offer = site.offer("COA", with_tx_code=True)
    wrong = _token(site, offer, "000000" if offer.tx_code != "000000" else "111111")
    assert (wrong.status, wrong.json()["error"]) == (400, "invalid_grant")
    missing = _token(site, offer, None)
    assert missing.json()["error"] == "invalid_grant"
    assert _token(site, offer, offer.tx_code).status == 200


def test_reused_nonce_and_second_request_are_refused(site: Site) -> None:
    offer = site.offer("COA")
    access = _token(site, offer, None).json()["access_token"]
    wallet = Oid4vciWallet()
    metadata = Oid4vciWallet.metadata(site.base)
    nonce = http("POST", metadata["nonce_endpoint"]).json()["c_nonce"]
    proof = wallet.key_proof(issuer=site.base, nonce=nonce)
    body = {"credential_configuration_id": "OpenBadgeCredential_ldp_vc", "proofs": {"jwt": [proof]}}
    headers = {"Authorization": f"Bearer {access}"}
    first = http("POST", metadata["credential_endpoint"], json_body=body, headers=headers)
    assert first.status == 200, first.text
    replay = http("POST", metadata["credential_endpoint"], json_body=body, headers=headers)
    assert replay.status == 400
    assert replay.json()["error"] in {"credential_request_denied", "invalid_nonce"}
    again = wallet.request(metadata, access, "OpenBadgeCredential_ldp_vc", alg="EdDSA")
    assert (again.status, again.json()["error"]) == (400, "credential_request_denied")


def test_key_proof_for_another_issuer_or_unoffered_configuration_is_refused(site: Site) -> None:
    offer = site.offer("COA")
    access = _token(site, offer, None).json()["access_token"]
    wallet = Oid4vciWallet()
    metadata = Oid4vciWallet.metadata(site.base)
    nonce = http("POST", metadata["nonce_endpoint"]).json()["c_nonce"]
    proof = wallet.key_proof(issuer="https://elsewhere.example", nonce=nonce)
    answer = http(
        "POST",
        metadata["credential_endpoint"],
        json_body={
            "credential_configuration_id": "OpenBadgeCredential_ldp_vc",
            "proofs": {"jwt": [proof]},
        },
        headers={"Authorization": f"Bearer {access}"},
    )
    assert (answer.status, answer.json()["error"]) == (400, "invalid_proof")
    unoffered = wallet.request(metadata, access, "ClrCredential_ldp_vc", alg="EdDSA")
    assert (unoffered.status, unoffered.json()["error"]) == (
        400,
        "unknown_credential_configuration",
    )


def test_revoking_the_award_revokes_every_copy(site: Site) -> None:
    award = site.award("COC", learner="S1002")
    offer = create_offer(
        site.rt, learner=None, award_ids=[award.id], bind_holder=True, actor="test"
    )
    vcapi = VcApiWallet()
    assert vcapi.run(offer.links.interaction_url).status == 200
    oid = Oid4vciWallet()
    second = create_offer(site.rt, learner=None, award_ids=[award.id], bind_holder=False, actor="t")
    assert [a.status for a in oid.run(second.links.credential_offer_uri, None)] == [200, 200]
    copies = [*vcapi.stored, *oid.credentials["OpenBadgeCredential_ldp_vc"]]
    copies.extend(oid.credentials["OpenBadgeCredential_jwt_vc_json"])
    assert all(site.verify(c).verified for c in copies)
    change_status(site.rt, [award.id], "revoke", reason="issued in error", actor="test")
    for copy in copies:
        assert site.verify(copy).verdict == "revoked"


def test_learner_page_makes_an_offer_for_all_credentials(site: Site) -> None:
    token = make_claim_token(site.rt.settings.secret_key, "S1003", at=site.rt.now())
    page = http("POST", f"{site.base}/claim/{token}/wallet", form={"award": "all"})
    assert page.status == 200, page.text
    match = re.search(r'data-url="([^"]+)"', page.text)
    assert match is not None
    interaction = match.group(1).replace("&amp;", "&")
    wallet = VcApiWallet()
    assert wallet.run(interaction).status == 200
    active = [a for a in list_awards(site.rt, learner="S1003", limit=None) if a.status == "active"]
    assert len(wallet.stored) == len(active) >= 1


def test_learner_page_offer_refuses_a_forged_claim_link(site: Site) -> None:
    page = http("POST", f"{site.base}/claim/forged-token/wallet", form={"award": "all"})
    assert page.status == 404
