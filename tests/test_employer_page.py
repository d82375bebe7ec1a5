"""The employer's verification page: Malaysia time, plain bilingual failures (codes only under
"details"), "not found at the issuer" for a withdrawn link, the operator's name, and the
last-known status list shown with its age during an issuer outage."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from _https import LocalServer, Route
from flask import Flask
from pypdf import PdfWriter
from verifier_fixtures import status_entry, status_list
from verifier_trust import trust_for
from verifier_web_credentials import (
    ACHIEVEMENT_NAME,
    ISSUER_NAME,
    LEARNER_NAME,
    coa,
    issuer_key,
    sign,
)

from keys.keypair import KeyPair
from verifier.links import pack_credential
from verifier.settings import VerifierSettings
from verifier.textpdf import text_pdf
from verifier.web import create_app


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return issuer_key()


def _app(key: KeyPair, settings: VerifierSettings) -> Flask:
    return create_app(settings, verifier=settings.build_verifier(trust=trust_for(key)))


@pytest.fixture
def docs() -> Iterator[LocalServer]:
    with LocalServer(None) as server:
        yield server


def _verdict(html: str) -> str:
    found = re.search(r'data-verdict="([a-z_]+)"', html)
    assert found is not None
    return found.group(1)


def _details(html: str) -> str:
    start = html.index("<details")
    return html[start : html.index("</details>", start)]


def _outside_details(html: str) -> str:
    start = html.index("<details")
    return html[:start] + html[html.index("</details>", start) :]


def test_dates_are_malaysia_time_with_the_offset(key: KeyPair) -> None:
    client = _app(key, VerifierSettings()).test_client()
    signed = sign(coa(key, valid_from="2026-01-15T00:00:00Z"), key)
    html = client.get("/verify?c=" + pack_credential(signed)).get_data(as_text=True)
    assert "2026-01-15 08:00 (UTC+08:00)" in html
    assert " UTC<" not in html
    assert "00:00 UTC" not in html


def test_operator_name_in_header_and_footer(key: KeyPair) -> None:
    settings = VerifierSettings.from_env(
        {"SIJIL_VERIFIER_OPERATOR": "Syarikat Pengambil Sdn Bhd", "SIJIL_RATE_LIMITS_ENABLED": "0"}
    )
    html = _app(key, settings).test_client().get("/").get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    footer = html[html.index("<footer") : html.index("</footer>")]
    assert "Syarikat Pengambil Sdn Bhd" in header
    assert "Syarikat Pengambil Sdn Bhd" in footer


@pytest.mark.parametrize("garbage", ["hello, this is not a credential", '{"a": [1, 2'])
def test_garbage_input_reads_plainly_with_the_code_under_details(
    key: KeyPair, garbage: str
) -> None:
    response = (
        _app(key, VerifierSettings()).test_client().post("/verify", data={"credential": garbage})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This is not a credential we can read" in html
    assert "Ini bukan kredensial yang boleh dibaca" in html
    assert "PARSING_ERROR" in _details(html)
    assert "<code>" not in _outside_details(html)


@pytest.mark.parametrize("status", [404, 410])
def test_withdrawn_credential_link_reads_not_found_at_the_issuer(
    key: KeyPair, docs: LocalServer, status: int
) -> None:
    docs.routes["/credentials/gone"] = Route(status=status, body=b"gone")
    client = _app(key, VerifierSettings(allow_local_fetch=True)).test_client()
    response = client.post("/verify", data={"credential": docs.url("/credentials/gone")})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Not found at the issuer" in html
    assert "Tidak ditemui di pihak pengeluar" in html
    assert "HTTP 502" not in html
    assert "Fetch failed" not in _outside_details(html)
    assert "CREDENTIAL_NOT_FOUND" in _details(html)


def test_unreachable_issuer_server_is_not_called_not_found(key: KeyPair, docs: LocalServer) -> None:
    docs.routes["/credentials/down"] = Route(status=503, body=b"down")
    client = _app(key, VerifierSettings(allow_local_fetch=True)).test_client()
    html = client.post("/verify", data={"credential": docs.url("/credentials/down")}).get_data(
        as_text=True
    )
    assert "Not found at the issuer" not in html
    assert "try again later" in html
    assert "FETCH_ERROR" in _details(html)


def _status_site(key: KeyPair, docs: LocalServer) -> tuple[dict[str, Any], str]:
    list_url = docs.url("/status/1")
    docs.routes["/status/1"] = Route.json(
        status_list(key, list_url), media_type="application/vc+ld+json"
    )
    return sign(coa(key, status=status_entry(list_url, 1)), key), "/status/1"


def test_outage_uses_the_last_known_status_list_and_shows_its_age(
    key: KeyPair, docs: LocalServer
) -> None:
    signed, path = _status_site(key, docs)
    settings = VerifierSettings(allow_local_fetch=True, status_cache_ttl=0.001)
    client = _app(key, settings).test_client()
    link = "/verify?c=" + pack_credential(signed)
    assert _verdict(client.get(link).get_data(as_text=True)) == "valid"
    docs.routes[path] = Route(status=503, body=b"maintenance")
    html = client.get(link).get_data(as_text=True)
    assert _verdict(html) == "valid"
    assert re.search(r"Status as of \d+ s ago", html)
    assert "Status setakat" in html
    assert "STALE_STATUS_LIST" in _details(html)


def test_outage_without_a_last_known_list_cannot_check_status(
    key: KeyPair, docs: LocalServer
) -> None:
    signed, path = _status_site(key, docs)
    docs.routes[path] = Route(status=503, body=b"maintenance")
    client = _app(key, VerifierSettings(allow_local_fetch=True)).test_client()
    html = client.get("/verify?c=" + pack_credential(signed)).get_data(as_text=True)
    assert _verdict(html) == "status_unknown"
    assert "STALE_STATUS_LIST" not in html


def test_withdrawn_status_list_never_falls_back_on_the_last_copy(
    key: KeyPair, docs: LocalServer
) -> None:
    signed, path = _status_site(key, docs)
    settings = VerifierSettings(allow_local_fetch=True, status_cache_ttl=0.001)
    client = _app(key, settings).test_client()
    link = "/verify?c=" + pack_credential(signed)
    assert _verdict(client.get(link).get_data(as_text=True)) == "valid"
    docs.routes[path] = Route(status=404, body=b"gone")
    html = client.get(link).get_data(as_text=True)
    assert _verdict(html) == "status_unknown"
    assert "STALE_STATUS_LIST" not in html


def test_stale_fallback_off_when_max_age_is_zero(key: KeyPair, docs: LocalServer) -> None:
    signed, path = _status_site(key, docs)
    settings = VerifierSettings(allow_local_fetch=True, status_cache_ttl=0.001, stale_max_age=0)
    client = _app(key, settings).test_client()
    link = "/verify?c=" + pack_credential(signed)
    assert _verdict(client.get(link).get_data(as_text=True)) == "valid"
    docs.routes[path] = Route(status=503, body=b"maintenance")
    assert _verdict(client.get(link).get_data(as_text=True)) == "status_unknown"


def test_malay_uses_one_word_for_credential(key: KeyPair) -> None:
    client = _app(key, VerifierSettings()).test_client()
    signed = sign(coa(key), key)
    pages = [
        client.get("/").get_data(as_text=True),
        client.get("/verify?c=" + pack_credential(signed)).get_data(as_text=True),
        client.post("/verify", data={"credential": "nonsense"}).get_data(as_text=True),
        client.get("/credit-transfer").get_data(as_text=True),
    ]
    for html in pages:
        assert "kelayakan" not in html.lower()
        assert "kredensial" in html.lower()


def test_certificate_pdf_upload_verifies(key: KeyPair) -> None:
    signed = sign(coa(key), key)
    printed = text_pdf(
        ["Certificate of Achievement", LEARNER_NAME, ACHIEVEMENT_NAME, "awarded by", ISSUER_NAME]
    )
    writer = PdfWriter(clone_from=io.BytesIO(printed))
    writer.add_attachment("credential.json", json.dumps(signed).encode())
    out = io.BytesIO()
    writer.write(out)
    client = _app(key, VerifierSettings()).test_client()
    data = {"file": (io.BytesIO(out.getvalue()), "Nur-Aisyah_COA_DAF101.pdf")}
    html = client.post("/verify", data=data, content_type="multipart/form-data").get_data(
        as_text=True
    )
    assert _verdict(html) == "valid"
    assert "not valid UTF-8" not in html
