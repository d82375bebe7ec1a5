"""Public documents, security headers, the OpenAPI description and key rotation over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from issuer_web_support import WebIssuer, auth, web_issuer
from jsonschema import Draft202012Validator

from issuer.services.awards import list_awards
from issuer.services.issuance import own_issuers
from issuer.web.openapi import UndescribedRouteError, build_openapi, openapi_path
from issuer.web.security import SECURITY_HEADERS
from verifier.report import verify_credential


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def test_security_headers_on_success_and_error_answers(web: WebIssuer) -> None:
    client = web.client()
    for response in (client.get("/healthz"), client.get("/nope"), client.get("/awards")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/awards").headers["Cache-Control"] == "no-store"


def test_credential_is_served_verbatim_with_negotiated_media_type(web: WebIssuer) -> None:
    award = list_awards(web.rt, learner="S1001", award_type="MMS")[0]
    client = web.client()
    response = client.get(f"/credentials/{award.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data() == award.credential_json.encode("utf-8")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for accept in ("application/vc+ld+json", "application/vc", "application/ld+json"):
        negotiated = client.get(f"/credentials/{award.id}", headers={"Accept": accept})
        assert negotiated.mimetype == accept
        assert negotiated.get_data() == award.credential_json.encode("utf-8")
    refused = client.get(f"/credentials/{award.id}", headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.get_json()["code"] == "NOT_ACCEPTABLE"
    browser = client.get(f"/credentials/{award.id}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.mimetype == "application/json"


def test_context_is_served_byte_for_byte(web: WebIssuer) -> None:
    response = web.client().get("/contexts/sijil/v1")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    pinned = (files("contexts") / "files" / "sijil-v1.jsonld").read_bytes()
    assert response.get_data() == pinned


def test_read_routes_list_filter_page_and_get(web: WebIssuer) -> None:
    client = web.client()
    headers = auth(web.tokens["read"])
    everything = client.get("/awards?limit=200", headers=headers).get_json()
    assert everything["next"] is None
    total = len(everything["items"])
    assert total == len(list_awards(web.rt, limit=None))
    page = client.get("/awards?limit=2", headers=headers).get_json()
    assert len(page["items"]) == 2
    assert page["next"] == "/awards?limit=2&offset=2"
    seen = [a["id"] for a in page["items"]]
    url: str | None = page["next"]
    while url is not None:
        nxt = client.get(url, headers=headers).get_json()
        seen += [a["id"] for a in nxt["items"]]
        url = nxt["next"]
    assert seen == [a["id"] for a in everything["items"]]
    mms = client.get("/awards?learner=S1001&type=MMS", headers=headers).get_json()["items"]
    assert [a["achievement"] for a in mms] == ["PCDA"]
    one = client.get(f"/awards/{mms[0]['id']}", headers=headers).get_json()
    assert one["credential"]["type"] == ["VerifiableCredential", "ClrCredential"]
    assert client.get("/awards?status=revoked", headers=headers).get_json()["items"] == []


def test_openapi_lists_every_route_with_its_scope(web: WebIssuer) -> None:
    doc = web.client().get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    described = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    expected = set()
    for rule in web.app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            continue  # the staff console's HTML pages are not part of the API
        path, _params = openapi_path(rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            expected.add((method, path))
    assert described == expected
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len({op["operationId"] for op in operations}) == len(operations)
    for op in operations:
        assert "default" in op["responses"]
        if op["security"]:
            scopes = op["security"][0]["bearerAuth"]
            assert scopes in (["admin"], ["issue"], ["read"], ["metrics"])
            assert {"401", "403"} <= set(op["responses"])
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            Draft202012Validator.check_schema(body["schema"])
    assert doc["paths"]["/awards/{award_id}"]["get"]["parameters"][0]["in"] == "path"
    admin_op = doc["paths"]["/issuers"]["post"]
    assert admin_op["security"] == [{"bearerAuth": ["admin"]}]
    assert doc["paths"]["/credentials/{award_id}"]["get"]["security"] == []


def test_openapi_refuses_an_undeclared_route(web: WebIssuer, tmp_path: Path) -> None:
    with web_issuer(tmp_path / "instance") as other:
        other.app.add_url_rule("/sneaky", "sneaky", lambda: "hi")
        with pytest.raises(UndescribedRouteError, match="/sneaky"):
            build_openapi(other.app, server_url="https://x.example", version="0")


def test_key_rotation_keeps_old_credentials_verifiable(tmp_path: Path) -> None:
    with web_issuer(tmp_path / "instance", demo=True) as web:
        client = web.client()
        before = list_awards(web.rt, learner="S1001", award_type="COA")[0]
        old_doc = client.get("/.well-known/did.json").get_json()
        rotated = client.post(
            "/issuers/default/keys/rotate", headers=auth(web.tokens["admin"]), json={}
        )
        assert rotated.status_code == 200, rotated.get_json()
        new_vm = rotated.get_json()["verificationMethods"][1]  # staged, not signing yet
        activated = client.post(
            "/issuers/default/keys/activate", headers=auth(web.tokens["admin"]), json={}
        )
        assert activated.get_json()["verificationMethod"] == new_vm
        doc = client.get("/.well-known/did.json").get_json()
        ids = [vm["id"] for vm in doc["verificationMethod"]]
        assert ids[0] == new_vm
        assert old_doc["verificationMethod"][0]["id"] in ids
        assert new_vm in doc["assertionMethod"]
        completed = client.post(
            "/progress",
            headers=auth(web.tokens["issue"]),
            json={
                "events": [
                    {
                        "learner": "S1004",
                        "microCredential": "ESG201",
                        "type": "materialCompleted",
                        "item": item,
                    }
                    for item in ("ESG201-M1", "ESG201-M2")
                ]
            },
        ).get_json()
        after_id = completed["issued"][0]["id"]
        after = json.loads(client.get(f"/credentials/{after_id}").get_data())
        assert after["proof"]["verificationMethod"] == new_vm
        old = json.loads(client.get(f"/credentials/{before.id}").get_data())
        assert old["proof"]["verificationMethod"] != new_vm
        for credential in (old, after):
            report = verify_credential(
                credential, resolver=web.rt.resolver, trust=own_issuers(web.rt)
            )
            assert report.verified, report.to_dict()


def test_did_key_issuer_has_no_did_web_document(web: WebIssuer) -> None:
    created = web.client().post(
        "/issuers",
        headers=auth(web.tokens["admin"]),
        json={
            "slug": "keyonly",
            "name": "K",
            "url": "https://k.example",
            "email": "k@k.example",
            "didMethod": "key",
        },
    )
    assert created.status_code == 201
    assert web.client().get("/issuers/keyonly/did.json").status_code == 404
    rotate = web.client().post(
        "/issuers/keyonly/keys/rotate", headers=auth(web.tokens["admin"]), json={}
    )
    assert rotate.status_code == 409
    assert rotate.get_json()["code"] == "KEY_ROTATION_UNSUPPORTED"


def test_readyz_is_503_without_a_default_issuer(tmp_path: Path) -> None:
    from issuer.services.bootstrap import open_runtime
    from issuer.settings import Settings
    from issuer.web import create_app

    settings = Settings.from_env(
        {"SIJIL_ENV": "development", "SIJIL_INSTANCE_DIR": str(tmp_path / "empty")}
    )
    rt = open_runtime(settings)
    try:
        response = create_app(runtime=rt).test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["code"] == "NOT_READY"
    finally:
        rt.close()
