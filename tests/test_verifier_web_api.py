"""The verifier's JSON API through Flask's test client: every endpoint and status code.

Real credentials (did:key issuer, eddsa-rdfc-2022 proofs) and the real core; no mocks.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from verifier_trust import trust_for
from verifier_web_credentials import ISSUER_NAME, coa, issuer_key, sign, tampered

from keys.dataintegrity import add_proof
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from verifier.settings import VerifierSettings
from verifier.trust import TrustedIssuer, TrustList
from verifier.web import create_app
from webplatform.security import CONTENT_SECURITY_POLICY

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return issuer_key()


@pytest.fixture(scope="module")
def signed(key: KeyPair) -> dict[str, Any]:
    return sign(coa(key), key)


@pytest.fixture(scope="module")
def app(key: KeyPair) -> Flask:
    settings = VerifierSettings()
    return create_app(
        settings,
        verifier=settings.build_verifier(trust=trust_for(key)),
        max_body_bytes=64 * 1024,
        max_json_depth=32,
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post_json(client: FlaskClient, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code.lower().replace("_", "-"))
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


# --- POST /credentials/verify ---------------------------------------------------------------


def test_valid_credential_is_200_with_report(client: FlaskClient, signed: dict[str, Any]) -> None:
    response = post_json(client, "/credentials/verify", {"verifiableCredential": signed})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    report = response.get_json()
    assert report["verified"] is True
    assert report["verdict"] == "valid"
    assert report["checks"]["proof"]["status"] == "passed"
    assert report["credential"]["achievement_name"] == "Data Analytics Fundamentals"


def test_tampered_credential_is_422_proof_verification_error(
    client: FlaskClient, signed: dict[str, Any]
) -> None:
    response = post_json(client, "/credentials/verify", {"verifiableCredential": tampered(signed)})
    body = assert_problem(response, 422, "PROOF_VERIFICATION_ERROR")
    assert body["verified"] is False
    assert body["verdict"] == "invalid"
    assert "PROOF_VERIFICATION_ERROR" in [e["code"] for e in body["errors"]]


def test_expired_credential_is_422_credential_expired(client: FlaskClient, key: KeyPair) -> None:
    expired = sign(coa(key, valid_until="2026-02-01T00:00:00Z"), key)
    response = post_json(client, "/credentials/verify", {"verifiableCredential": expired})
    body = assert_problem(response, 422, "CREDENTIAL_EXPIRED")
    assert body["verdict"] == "expired"


def test_options_at_checks_validity_at_that_time(client: FlaskClient, key: KeyPair) -> None:
    expiring = sign(coa(key, valid_until="2026-02-01T00:00:00Z"), key)
    body = {"verifiableCredential": expiring, "options": {"at": "2026-01-20T00:00:00Z"}}
    response = post_json(client, "/credentials/verify", body)
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "valid"


def test_unknown_issuer_with_trust_list_is_422_issuer_not_trusted(
    key: KeyPair, signed: dict[str, Any]
) -> None:
    settings = VerifierSettings()
    trust = TrustList.from_issuers([TrustedIssuer("did:web:uni.example.my", "Universiti")])
    app = create_app(settings, verifier=settings.build_verifier(trust=trust))
    response = post_json(app.test_client(), "/credentials/verify", {"verifiableCredential": signed})
    body = assert_problem(response, 422, "ISSUER_NOT_TRUSTED")
    assert body["verdict"] == "unknown_issuer"


def test_trusted_issuer_is_200(key: KeyPair, signed: dict[str, Any]) -> None:
    settings = VerifierSettings()
    trust = TrustList.from_issuers([TrustedIssuer(did_key_for(key), ISSUER_NAME)])
    app = create_app(settings, verifier=settings.build_verifier(trust=trust))
    response = post_json(app.test_client(), "/credentials/verify", {"verifiableCredential": signed})
    assert response.status_code == 200
    assert response.get_json()["warnings"] == []
    assert response.get_json()["credential"]["issuer_name"] == ISSUER_NAME


def test_no_trust_list_is_422_unknown_issuer(signed: dict[str, Any]) -> None:
    app = create_app(VerifierSettings())
    response = post_json(app.test_client(), "/credentials/verify", {"verifiableCredential": signed})
    body = assert_problem(response, 422, "ISSUER_TRUST_NOT_CONFIGURED")
    assert body["verdict"] == "unknown_issuer"
    assert body["verified"] is False
    assert body["credential"]["issuer_name"] is None
    assert body["credential"]["issuer_claimed_name"] == ISSUER_NAME


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "PARSING_ERROR"),
        ({"verifiableCredential": 42}, "MALFORMED_VALUE_ERROR"),
        ({"verifiableCredential": ["a"]}, "MALFORMED_VALUE_ERROR"),
        ({"verifiableCredential": {"type": "Thing"}}, "UNSUPPORTED_INPUT"),
        ({"verifiableCredential": "not a jwt"}, "PARSING_ERROR"),
        ({"verifiableCredential": {}, "options": []}, "MALFORMED_VALUE_ERROR"),
        ({"verifiableCredential": {}, "options": {"challenge": 1}}, "MALFORMED_VALUE_ERROR"),
        ({"verifiableCredential": {}, "options": {"at": "yesterday"}}, "MALFORMED_VALUE_ERROR"),
        (
            {"verifiableCredential": {}, "options": {"at": "2026-01-01T00:00:00"}},
            "MALFORMED_VALUE_ERROR",
        ),
        ([1, 2], "MALFORMED_VALUE_ERROR"),
    ],
    ids=[
        "no_credential",
        "credential_number",
        "credential_list",
        "not_a_credential",
        "string_not_jwt",
        "options_list",
        "challenge_number",
        "at_not_date",
        "at_without_zone",
        "body_list",
    ],
)
def test_malformed_request_is_400_problem(client: FlaskClient, body: Any, code: str) -> None:
    assert_problem(post_json(client, "/credentials/verify", body), 400, code)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "PARSING_ERROR"),
        (b"", "PARSING_ERROR"),
        (b'{"verifiableCredential": {}, "verifiableCredential": {}}', "PARSING_ERROR"),
        (b"\xff\xfe", "PARSING_ERROR"),
        (b'{"verifiableCredential": {"a": NaN}}', "PARSING_ERROR"),
    ],
    ids=["not_json", "empty", "duplicate_key", "not_utf8", "nan"],
)
def test_unparseable_body_is_400_problem(client: FlaskClient, raw: bytes, code: str) -> None:
    response = client.post("/credentials/verify", data=raw, content_type="application/json")
    assert_problem(response, 400, code)


def test_huge_body_is_413_request_too_large(client: FlaskClient) -> None:
    raw = json.dumps({"verifiableCredential": {"pad": "x" * 100_000}})
    response = client.post("/credentials/verify", data=raw, content_type="application/json")
    assert_problem(response, 413, "REQUEST_TOO_LARGE")


def test_deep_body_is_400_json_too_deep(client: FlaskClient) -> None:
    raw = '{"verifiableCredential": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = client.post("/credentials/verify", data=raw, content_type="application/json")
    assert_problem(response, 400, "JSON_TOO_DEEP")


def test_deep_json_text_in_a_string_is_400_json_too_deep(client: FlaskClient) -> None:
    body = {"verifiableCredential": '{"a":' * 200 + "1" + "}" * 200}
    assert_problem(post_json(client, "/credentials/verify", body), 400, "JSON_TOO_DEEP")


def test_deep_credential_within_byte_cap_never_500(client: FlaskClient) -> None:
    deep: dict[str, Any] = {"type": ["VerifiableCredential"]}
    node = deep
    for _ in range(30):
        node["credentialSubject"] = {}
        node = node["credentialSubject"]
    response = post_json(client, "/credentials/verify", {"verifiableCredential": deep})
    assert response.status_code in (400, 422)
    assert response.mimetype == PROBLEM


def test_form_body_is_415_unsupported_media_type(client: FlaskClient) -> None:
    response = client.post("/credentials/verify", data={"verifiableCredential": "x"})
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_ld_json_media_type_is_accepted(client: FlaskClient, signed: dict[str, Any]) -> None:
    response = client.post(
        "/credentials/verify",
        data=json.dumps({"verifiableCredential": signed}),
        content_type="application/ld+json",
    )
    assert response.status_code == 200


def test_get_on_verify_is_405_with_allow(client: FlaskClient) -> None:
    response = client.get("/credentials/verify")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]


def test_unknown_path_is_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/no/such/thing"), 404, "NOT_FOUND")


# --- POST /presentations/verify and /challenges ---------------------------------------------


def presentation(holder: KeyPair, credential: dict[str, Any], challenge: str, domain: str) -> Any:
    holder_did = did_key_for(holder)
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder_did,
        "verifiableCredential": [credential],
    }
    return add_proof(
        vp,
        holder,
        proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
        verification_method=f"{holder_did}#{holder_did[8:]}",
    )


def test_challenge_is_fresh_201(client: FlaskClient) -> None:
    first = client.post("/challenges")
    second = client.post("/challenges")
    assert first.status_code == 201
    assert len(first.get_json()["challenge"]) >= 16
    assert first.get_json()["challenge"] != second.get_json()["challenge"]


def test_presentation_with_right_challenge_is_200(
    client: FlaskClient, signed: dict[str, Any]
) -> None:
    holder = KeyPair.generate("Ed25519")
    challenge = client.post("/challenges").get_json()["challenge"]
    vp = presentation(holder, signed, challenge, "verify.example.my")
    body = {
        "verifiablePresentation": vp,
        "options": {"challenge": challenge, "domain": "verify.example.my"},
    }
    response = post_json(client, "/presentations/verify", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert report["verified"] is True
    assert report["kind"] == "presentation"


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"challenge": "another", "domain": "verify.example.my"}, "INVALID_CHALLENGE_ERROR"),
        ({"challenge": "c-123", "domain": "evil.example"}, "INVALID_DOMAIN_ERROR"),
    ],
    ids=["replayed_challenge", "wrong_domain"],
)
def test_replayed_presentation_is_422(
    client: FlaskClient, signed: dict[str, Any], options: dict[str, str], code: str
) -> None:
    holder = KeyPair.generate("Ed25519")
    vp = presentation(holder, signed, "c-123", "verify.example.my")
    response = post_json(
        client, "/presentations/verify", {"verifiablePresentation": vp, "options": options}
    )
    body = assert_problem(response, 422, code)
    assert body["verified"] is False


def test_presentation_without_body_member_is_400(client: FlaskClient) -> None:
    assert_problem(post_json(client, "/presentations/verify", {}), 400, "PARSING_ERROR")


def test_credential_and_presentation_endpoints_refuse_each_others_input(
    client: FlaskClient, signed: dict[str, Any]
) -> None:
    vp = presentation(KeyPair.generate("Ed25519"), signed, "c-1", "verify.example.my")
    wrong_vp = post_json(client, "/credentials/verify", {"verifiableCredential": vp})
    assert_problem(wrong_vp, 400, "MALFORMED_VALUE_ERROR")
    wrong_vc = post_json(client, "/presentations/verify", {"verifiablePresentation": signed})
    assert_problem(wrong_vc, 400, "MALFORMED_VALUE_ERROR")


# --- POST /credit-transfer/evaluate ---------------------------------------------------------


POLICY = {
    "programme": {"id": "BSC-DS", "name": "BSc Data Science"},
    "totalCredits": 120,
    "maxTransferShare": 0.3,
    "courseMapping": [{"achievement": "DAF101", "course": "DS1013", "credits": 3}],
    "maxAgeYears": 5,
}


def test_credit_transfer_accepts_a_mapped_coa(client: FlaskClient, signed: dict[str, Any]) -> None:
    response = post_json(
        client,
        "/credit-transfer/evaluate",
        {"credentials": [signed], "policy": POLICY, "options": {"at": "2026-06-01T00:00:00Z"}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    evaluation = response.get_json()
    assert evaluation["transferred"] == 3
    assert evaluation["cap"] == 36
    assert [c["course"] for c in evaluation["courses"]] == ["DS1013"]
    assert [d["decision"] for d in evaluation["decisions"]] == ["accepted"]


def test_credit_transfer_refuses_a_tampered_coa(
    client: FlaskClient, signed: dict[str, Any]
) -> None:
    response = post_json(
        client, "/credit-transfer/evaluate", {"credentials": [tampered(signed)], "policy": POLICY}
    )
    assert response.status_code == 200
    evaluation = response.get_json()
    assert evaluation["transferred"] == 0
    assert [(d["decision"], d["code"]) for d in evaluation["decisions"]] == [
        ("rejected", "NOT_VERIFIED")
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"credentials": []}, "MALFORMED_VALUE_ERROR"),
        ({"policy": POLICY}, "MALFORMED_VALUE_ERROR"),
        ({"policy": POLICY, "credentials": "x"}, "MALFORMED_VALUE_ERROR"),
        ({"policy": POLICY, "credentials": [1]}, "MALFORMED_VALUE_ERROR"),
        ({"policy": {"totalCredits": "lots"}, "credentials": []}, "MALFORMED_VALUE_ERROR"),
        (
            {"policy": POLICY, "credentials": [], "verifiablePresentation": {}},
            "MALFORMED_VALUE_ERROR",
        ),
    ],
    ids=[
        "no_policy",
        "no_credentials",
        "credentials_string",
        "credentials_numbers",
        "bad_policy_value",
        "both_inputs",
    ],
)
def test_credit_transfer_bad_request_is_400(client: FlaskClient, body: Any, code: str) -> None:
    assert_problem(post_json(client, "/credit-transfer/evaluate", body), 400, code)


def test_too_many_credentials_is_413(client: FlaskClient) -> None:
    body = {"credentials": [{}] * 101, "policy": POLICY}
    assert_problem(post_json(client, "/credit-transfer/evaluate", body), 413, "REQUEST_TOO_LARGE")
    vp = {"type": ["VerifiablePresentation"], "verifiableCredential": [{}] * 101}
    response = post_json(client, "/presentations/verify", {"verifiablePresentation": vp})
    assert_problem(response, 413, "REQUEST_TOO_LARGE")


# --- operational endpoints and headers ------------------------------------------------------


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready"}


def test_openapi_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    api_routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert api_routes == described


def test_security_headers_on_api_and_errors(client: FlaskClient) -> None:
    for response in (client.get("/healthz"), client.get("/missing"), client.get("/")):
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"


def test_problem_never_leaks_for_an_internal_error() -> None:
    app = create_app(VerifierSettings())

    @app.get("/_boom_for_test")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/_boom_for_test")
    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "secret" not in json.dumps(body)
