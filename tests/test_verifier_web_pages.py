"""The human verification page through Flask's test client (HTML, links, uploads, fetching).

Browser behaviour (rendering, JavaScript, accessibility) is in test_browser_verifier_page.py.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import verifier_fixtures as fixtures
from _https import LocalServer, Route
from flask import Flask
from flask.testing import FlaskClient
from verifier_fixtures import status_entry, status_list
from verifier_trust import trust_for
from verifier_web_credentials import (
    ACHIEVEMENT_NAME,
    ISSUER_NAME,
    LEARNER_NAME,
    TINY_SVG,
    coa,
    issuer_key,
    sign,
    tampered,
    tiny_png,
)

import verifier.web
from keys.keypair import KeyPair
from verifier.baked import bake_png, bake_svg
from verifier.links import pack_credential, verification_link
from verifier.settings import VerifierSettings
from verifier.web import create_app


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return issuer_key()


@pytest.fixture(scope="module")
def signed(key: KeyPair) -> dict[str, Any]:
    return sign(coa(key), key)


def trusting(settings: VerifierSettings, key: KeyPair) -> Flask:
    """The app with a trust list recognising ``key``'s issuer and the MMS issuer."""
    return create_app(settings, verifier=settings.build_verifier(trust=trust_for(key, MMS_ISSUER)))


@pytest.fixture(scope="module")
def app(key: KeyPair) -> Flask:
    return trusting(VerifierSettings(), key)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def local_app(key: KeyPair) -> Flask:
    """A verifier that may fetch from loopback over plain HTTP (SIJIL_ALLOW_LOCAL_FETCH=1)."""
    return trusting(VerifierSettings(allow_local_fetch=True), key)


@pytest.fixture
def docs_server() -> Iterator[LocalServer]:
    with LocalServer(None) as server:
        yield server


def verdict_of(html: str) -> str:
    found = re.search(r'data-verdict="([a-z_]+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


def test_index_has_the_three_ways_in_and_no_inline_script(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<meta name="viewport"' in html
    assert 'id="scan-start"' in html
    assert 'name="credential"' in html
    assert 'type="file"' in html
    assert 'lang="ms"' in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    assert all("src=" in tag for tag in scripts)
    assert "style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers break the CSP"
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html


def test_static_assets_are_served_locally(client: FlaskClient) -> None:
    for path in ("/static/site.css", "/static/verify.js", "/static/vendor/jsqr/jsQR.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_packed_link_shows_valid_with_summary(client: FlaskClient, signed: dict[str, Any]) -> None:
    response = client.get("/verify?c=" + pack_credential(signed))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert verdict_of(html) == "valid"
    assert ">Valid<" in html
    assert ">Sah<" in html
    for text in (ISSUER_NAME, LEARNER_NAME, ACHIEVEMENT_NAME, "Certificate of Achievement (COA)"):
        assert text in html
    assert "2026-01-15" in html
    assert "Credits" in html
    assert "Details of each check" in html
    assert "The signature is valid" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_verification_link_helper_round_trips(client: FlaskClient, signed: dict[str, Any]) -> None:
    link = verification_link("http://localhost", signed)
    response = client.get(link.removeprefix("http://localhost"))
    assert verdict_of(response.get_data(as_text=True)) == "valid"


def test_tampered_packed_link_shows_invalid(client: FlaskClient, signed: dict[str, Any]) -> None:
    html = client.get("/verify?c=" + pack_credential(tampered(signed))).get_data(as_text=True)
    assert verdict_of(html) == "invalid"
    assert ">Invalid<" in html
    assert "PROOF_VERIFICATION_ERROR" in html


def test_expired_packed_link_shows_expired(client: FlaskClient, key: KeyPair) -> None:
    expired = sign(coa(key, valid_until="2026-02-01T00:00:00Z"), key)
    html = client.get("/verify?c=" + pack_credential(expired)).get_data(as_text=True)
    assert verdict_of(html) == "expired"
    assert "Tamat tempoh" in html


def test_broken_packed_link_is_an_html_error_page(client: FlaskClient) -> None:
    response = client.get("/verify?c=%21%21%21")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "This is not a credential we can read" in html
    assert "Ini bukan kredensial yang boleh dibaca" in html
    # The code is kept for whoever reports the problem, under the "details" disclosure only.
    assert html.index("<details") < html.index("<code>MALFORMED_VALUE_ERROR</code>")


def test_verify_without_input_redirects_home(client: FlaskClient) -> None:
    response = client.get("/verify")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")


def test_upload_json_file(client: FlaskClient, signed: dict[str, Any]) -> None:
    data = {"file": (io.BytesIO(json.dumps(signed).encode()), "credential.json")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert verdict_of(response.get_data(as_text=True)) == "valid"


def test_upload_baked_png(client: FlaskClient, signed: dict[str, Any]) -> None:
    baked = bake_png(tiny_png(), signed)
    data = {"file": (io.BytesIO(baked), "badge.png")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert verdict_of(response.get_data(as_text=True)) == "valid"


def test_upload_baked_svg_of_tampered_credential(
    client: FlaskClient, signed: dict[str, Any]
) -> None:
    baked = bake_svg(TINY_SVG, tampered(signed))
    data = {"file": (io.BytesIO(baked), "badge.svg")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert verdict_of(response.get_data(as_text=True)) == "invalid"


def test_upload_png_without_credential_is_error_page(client: FlaskClient) -> None:
    data = {"file": (io.BytesIO(tiny_png()), "plain.png")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "BAKED_CREDENTIAL_NOT_FOUND" in response.get_data(as_text=True)


def test_paste_json_and_paste_link(client: FlaskClient, signed: dict[str, Any]) -> None:
    pasted = client.post("/verify", data={"credential": json.dumps(signed)})
    assert verdict_of(pasted.get_data(as_text=True)) == "valid"
    link = verification_link("https://verify.other.example", tampered(signed))
    linked = client.post("/verify", data={"credential": link})
    assert verdict_of(linked.get_data(as_text=True)) == "invalid"


def test_paste_deep_json_is_json_too_deep(client: FlaskClient) -> None:
    response = client.post("/verify", data={"credential": "[" * 5000 + "]" * 5000})
    assert response.status_code == 400
    assert "JSON_TOO_DEEP" in response.get_data(as_text=True)


def test_empty_form_is_parsing_error(client: FlaskClient) -> None:
    response = client.post("/verify", data={"credential": "  "})
    assert response.status_code == 400
    assert "PARSING_ERROR" in response.get_data(as_text=True)


def test_url_is_fetched_when_local_fetch_allowed(
    local_app: Flask, docs_server: LocalServer, signed: dict[str, Any]
) -> None:
    docs_server.routes["/credentials/1"] = Route.json(signed, media_type="application/vc+ld+json")
    url = docs_server.url("/credentials/1")
    response = local_app.test_client().get("/verify?url=" + quote(url, safe=""))
    assert verdict_of(response.get_data(as_text=True)) == "valid"
    assert docs_server.requests == ["/credentials/1"]


def test_url_to_loopback_is_refused_by_default(
    client: FlaskClient, docs_server: LocalServer, signed: dict[str, Any]
) -> None:
    docs_server.routes["/credentials/1"] = Route.json(signed)
    url = docs_server.url("/credentials/1")
    response = client.get("/verify?url=" + quote(url, safe=""))
    html = response.get_data(as_text=True)
    assert response.status_code >= 400
    assert "FETCH_" in html
    assert docs_server.requests == []


def test_url_answering_html_is_refused(local_app: Flask, docs_server: LocalServer) -> None:
    docs_server.routes["/page"] = Route(
        body=b"<html></html>", headers={"Content-Type": "text/html"}
    )
    response = local_app.test_client().get("/verify?url=" + quote(docs_server.url("/page")))
    assert response.status_code >= 400
    assert "FETCH_UNEXPECTED_CONTENT_TYPE" in response.get_data(as_text=True)


@pytest.mark.parametrize(("bits", "verdict"), [((), "valid"), ((7,), "revoked")])
def test_status_list_revocation_is_shown(
    local_app: Flask, docs_server: LocalServer, key: KeyPair, bits: tuple[int, ...], verdict: str
) -> None:
    list_url = docs_server.url("/status/1")
    docs_server.routes["/status/1"] = Route.json(
        status_list(key, list_url, set_bits=bits), media_type="application/vc+ld+json"
    )
    credential = sign(coa(key, status=status_entry(list_url, 7)), key)
    html = local_app.test_client().get("/verify?c=" + pack_credential(credential))
    assert verdict_of(html.get_data(as_text=True)) == verdict


def test_unreachable_status_list_is_could_not_check_status(
    local_app: Flask, docs_server: LocalServer, key: KeyPair
) -> None:
    list_url = docs_server.url("/status/missing")
    credential = sign(coa(key, status=status_entry(list_url, 7)), key)
    html = local_app.test_client().get("/verify?c=" + pack_credential(credential))
    text = html.get_data(as_text=True)
    assert verdict_of(text) == "status_unknown"
    assert "Could not check status" in text


UNITS = [
    ("DS101", "Data Analytics Fundamentals"),
    ("DS102", "Machine Learning Basics"),
    ("DS103", "Data Visualisation"),
]


def mms_with(coas: list[dict[str, Any]]) -> dict[str, Any]:
    return fixtures.sign(fixtures.build_mms(MMS_ISSUER, MMS_LEARNER, coas), MMS_ISSUER)


def unit_coas() -> list[dict[str, Any]]:
    return [
        fixtures.coa_for(MMS_ISSUER, MMS_LEARNER, code, name, serial=index + 1)
        for index, (code, name) in enumerate(UNITS)
    ]


MMS_ISSUER = fixtures.key_from_seed(21)
MMS_LEARNER = fixtures.Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt-aisyah")


def test_mms_lists_each_stacked_coa(client: FlaskClient) -> None:
    response = client.post("/verify", data={"credential": json.dumps(mms_with(unit_coas()))})
    html = response.get_data(as_text=True)
    assert verdict_of(html) == "valid"
    assert "Malaysian Micro-Credentials Statement (MMS)" in html
    assert "Penyata Mikro-Kredensial Malaysia" in html
    assert "Mastery" not in html
    assert "Stacked micro-credentials" in html
    for _, name in UNITS:
        assert name in html
    assert "Programme stacking" in html


def test_mms_with_tampered_coa_names_it(client: FlaskClient) -> None:
    coas = unit_coas()
    coas[1]["credentialSubject"]["result"][0]["value"] = "99"
    response = client.post("/verify", data={"credential": json.dumps(mms_with(coas))})
    html = response.get_data(as_text=True)
    assert verdict_of(html) == "invalid"
    assert "STACKING_INNER_INVALID" in html
    assert "Machine Learning Basics" in html
    assert "not verified" in html


def test_gzip_bomb_link_is_413_html(client: FlaskClient) -> None:
    bomb = gzip.compress(b'{"a": "' + b"x" * 20_000_000 + b'"}', mtime=0)
    packed = base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    response = client.get("/verify?c=" + packed)
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "REQUEST_TOO_LARGE" in response.get_data(as_text=True)


def test_link_carrying_a_list_is_parsing_error(client: FlaskClient) -> None:
    response = client.get("/verify?c=" + pack_credential(json.dumps([1, 2])))
    assert response.status_code == 400
    assert "PARSING_ERROR" in response.get_data(as_text=True)


def test_vendored_jsqr_is_the_pinned_file() -> None:
    """The vendored QR reader is byte for byte jsqr@1.4.0's dist/jsQR.js (see its README)."""
    vendor = Path(verifier.web.__file__).parent / "static" / "vendor" / "jsqr"
    digest = hashlib.sha256((vendor / "jsQR.js").read_bytes()).hexdigest()
    assert digest == "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859"
    assert digest in (vendor / "README.md").read_text(encoding="utf-8")
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")


def test_unknown_path_is_html_for_a_browser_and_problem_for_a_client(client: FlaskClient) -> None:
    browser = client.get("/nope", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 404
    assert browser.mimetype == "text/html"
    assert "NOT_FOUND" in browser.get_data(as_text=True)
    api_client = client.get("/nope", headers={"Accept": "*/*"})
    assert api_client.status_code == 404
    assert api_client.mimetype == "application/problem+json"
