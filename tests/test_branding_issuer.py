"""Issuer branding end to end through the real app: set it (API, CLI), serve it, and find it
on the learner page, the PDF certificate, the badge images and in the issued credential."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conformance_issue_support import schema_errors
from issuer_web_support import BASE_URL, WebIssuer, auth, web_issuer
from PIL import Image
from pypdf import PdfReader

from contexts.errors import MalformedValueError
from issuer.cli import cli as issuer_cli
from issuer.delivery.claims import make_claim_token
from issuer.domain.branding import DEFAULT_PRIMARY, BrandChanges
from issuer.exports.badge import badge_png, badge_svg
from issuer.exports.facts import certificate_facts
from issuer.services.awards import AwardView, list_awards
from issuer.services.branding import issuer_brand
from issuer.services.demo import seed_demo
from issuer.services.demobrand import DEMO_PRIMARY
from issuer.services.issuance import own_issuers
from issuer.services.issuers import get_issuer, update_issuer
from issuer.services.runtime import OfflineFetcher
from issuer.web.security import CONTENT_SECURITY_POLICY
from verifier.baked import unbake
from verifier.report import verify_credential

PRIMARY = "#5a1e6b"
ACCENT = "#1d5c3a"
LOGO_URL = f"{BASE_URL}/issuers/default/logo"


def _png_logo() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (96, 48), (250, 250, 250))
    image.paste((90, 30, 107), (8, 8, 88, 40))
    image.save(out, format="PNG")
    return out.getvalue()


def _data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    """The default issuer branded through the API (PNG logo), then the demo issued."""
    with web_issuer(tmp_path_factory.mktemp("instance")) as web:
        response = web.client().patch(
            "/issuers/default",
            json={
                "nameMs": "Universiti Contoh Malaysia",
                "primaryColor": PRIMARY,
                "accentColor": ACCENT,
                "logo": _data_url(_png_logo()),
            },
            headers=auth(web.tokens["admin"]),
        )
        assert response.status_code == 200, response.get_json()
        seed_demo(web.rt)
        yield web


def _awards(web: WebIssuer) -> list[AwardView]:
    return list_awards(web.rt, limit=None)


def _credential(award: AwardView) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(award.credential_json)
    return value


def test_patch_returns_the_brand_and_sets_the_profile_image(branded: WebIssuer) -> None:
    body = branded.client().get("/issuers/default", headers=auth(branded.tokens["admin"]))
    data = body.get_json()
    assert data["primaryColor"] == PRIMARY
    assert data["accentColor"] == ACCENT
    assert data["nameMs"] == "Universiti Contoh Malaysia"
    assert data["image"] == LOGO_URL
    assert data["domain"] == "issuer.test.example"


def test_demo_seed_keeps_a_brand_an_admin_set(branded: WebIssuer) -> None:
    assert get_issuer(branded.rt).primary_colour == PRIMARY
    assert issuer_brand(branded.rt).primary_colour != DEMO_PRIMARY


def test_logo_is_served_at_the_profile_image_url_with_a_strict_csp(branded: WebIssuer) -> None:
    client = branded.client()
    response = client.get("/issuers/default/logo")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (96, 48)
    again = client.get("/issuers/default/logo", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_brand_stylesheet_carries_the_colours(branded: WebIssuer) -> None:
    response = branded.client().get("/issuers/default/brand.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert f"--brand-primary: {PRIMARY};" in css
    assert f"--brand-accent: {ACCENT};" in css


def test_unknown_issuer_logo_is_not_found(branded: WebIssuer) -> None:
    response = branded.client().get("/issuers/nobody/logo")
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


def test_credentials_point_at_the_served_logo_and_stay_schema_valid(branded: WebIssuer) -> None:
    awards = _awards(branded)
    assert {a.award_type for a in awards} == {"COC", "COA", "MMS"}
    for award in awards:
        credential = _credential(award)
        assert credential["issuer"]["image"] == {"id": LOGO_URL, "type": "Image"}
        assert schema_errors(credential) == [], award.award_type
        report = verify_credential(
            credential,
            resolver=branded.rt.resolver,
            fetcher=OfflineFetcher(),
            check_status=False,
            trust=own_issuers(branded.rt),
        )
        assert report.verified, report.error_codes


def test_learner_page_header_wears_the_brand_without_inline_styles(branded: WebIssuer) -> None:
    token = make_claim_token(branded.rt.settings.secret_key, "S1001", at=branded.rt.now())
    response = branded.client().get(f"/claim/{token}")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    assert 'class="site branded"' in header
    assert 'src="/issuers/default/logo?v=' in header
    assert "Universiti Sijil (development)" in header
    assert "Universiti Contoh Malaysia" in header
    assert "issuer.test.example" in header
    assert 'href="/issuers/default/brand.css?v=' in html
    assert not re.search(r"\sstyle=", html)
    assert "<style" not in html


def test_learner_stylesheet_reads_the_brand_properties(branded: WebIssuer) -> None:
    css = branded.client().get("/claim/assets/learner.css").get_data(as_text=True)
    assert "var(--brand-primary" in css
    assert "var(--brand-accent" in css


def test_link_problem_page_wears_the_default_issuers_brand(branded: WebIssuer) -> None:
    response = branded.client().get("/claim/not-a-token")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'href="/issuers/default/brand.css?v=' in html
    assert "Universiti Contoh Malaysia" in html


def _download(web: WebIssuer, award: AwardView, fmt: str) -> bytes:
    token = make_claim_token(web.rt.settings.secret_key, award.learner, at=web.rt.now())
    response = web.client().get(f"/claim/{token}/credentials/{award.id}/{fmt}")
    assert response.status_code == 200
    data: bytes = response.get_data()
    return data


def _rg(colour: str) -> bytes:
    channels = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return " ".join(f"{c:.4f}" for c in channels).encode() + b" RG"


def test_pdf_certificate_has_logo_colours_and_verified_domain(branded: WebIssuer) -> None:
    award = next(a for a in _awards(branded) if a.award_type == "MMS")
    reader = PdfReader(io.BytesIO(_download(branded, award, "pdf")))
    page = reader.pages[0]
    text = page.extract_text()
    assert "Verified domain" in text
    assert "issuer.test.example" in text
    assert "Universiti Contoh Malaysia" in text
    # The QR code and the logo; the logo is the wide one.
    images = [image.image for image in page.images]
    sizes = sorted((i.size for i in images if i is not None), key=lambda s: s[0] / s[1])
    assert len(sizes) == 2
    assert sizes[-1] == (96, 48)
    contents = page.get_contents()
    assert contents is not None
    assert _rg(PRIMARY) in contents.get_data()
    # The signed credential stays attached.
    assert "credential.json" in reader.attachments


def test_badges_wear_the_issuer_colour_and_stay_baked(branded: WebIssuer) -> None:
    award = next(a for a in _awards(branded) if a.award_type == "COA")
    svg = _download(branded, award, "svg")
    assert f'<circle cx="200" cy="200" r="196" fill="{PRIMARY}"/>'.encode() in svg
    assert DEFAULT_PRIMARY.encode() not in svg
    assert unbake(svg) == award.credential_json
    png = _download(branded, award, "png")
    with Image.open(io.BytesIO(png)) as image:
        assert image.convert("RGB").getpixel((12, 200)) == (0x5A, 0x1E, 0x6B)
    assert unbake(png) == award.credential_json


def test_badge_without_brand_keeps_the_default_ring(branded: WebIssuer) -> None:
    award = next(a for a in _awards(branded) if a.award_type == "COA")
    facts = certificate_facts(award.credential())
    assert f'fill="{DEFAULT_PRIMARY}"'.encode() in badge_svg(facts)
    with Image.open(io.BytesIO(badge_png(facts))) as image:
        assert image.convert("RGB").getpixel((12, 200)) == (0x1B, 0x2A, 0x41)


def test_patch_with_low_contrast_colour_is_refused(branded: WebIssuer) -> None:
    response = branded.client().patch(
        "/issuers/default",
        json={"primaryColor": "#ffcc00"},
        headers=auth(branded.tokens["admin"]),
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] == "MALFORMED_VALUE_ERROR"
    assert issuer_brand(branded.rt).primary_colour == PRIMARY


def test_patch_with_script_svg_logo_is_refused_and_keeps_the_old_logo(
    branded: WebIssuer,
) -> None:
    evil = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>x()</script></svg>'
    response = branded.client().patch(
        "/issuers/default",
        json={"logo": _data_url(evil, "image/svg+xml")},
        headers=auth(branded.tokens["admin"]),
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] == "MALFORMED_VALUE_ERROR"
    logo = issuer_brand(branded.rt).logo
    assert logo is not None
    assert logo.media_type == "image/png"


def test_new_issuer_with_brand_through_the_api(branded: WebIssuer) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
        b'<rect width="4" height="4"/></svg>'
    )
    response = branded.client().post(
        "/issuers",
        json={
            "slug": "fsk",
            "name": "Faculty of Computing",
            "url": "https://fsk.example.edu.my",
            "email": "dean@example.edu.my",
            "nameMs": "Fakulti Komputeran",
            "primaryColor": "#003366",
            "logo": _data_url(svg, "image/svg+xml"),
        },
        headers=auth(branded.tokens["admin"]),
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["image"] == f"{BASE_URL}/issuers/fsk/logo"
    assert data["nameMs"] == "Fakulti Komputeran"
    logo = branded.client().get("/issuers/fsk/logo")
    assert logo.mimetype == "image/svg+xml"
    assert b"<rect" in logo.data


def test_null_logo_removes_it_and_the_image(tmp_path: Path) -> None:
    with web_issuer(tmp_path) as web:
        headers = auth(web.tokens["admin"])
        client = web.client()
        set_logo = client.patch(
            "/issuers/default", json={"logo": _data_url(_png_logo())}, headers=headers
        )
        assert set_logo.get_json()["image"] == LOGO_URL
        removed = client.patch("/issuers/default", json={"logo": None}, headers=headers)
        assert removed.status_code == 200
        assert removed.get_json()["image"] is None
        assert client.get("/issuers/default/logo").status_code == 404


def test_cli_sets_and_shows_the_brand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = tmp_path / "instance"
    env = {
        "SIJIL_ENV": "development",
        "SIJIL_INSTANCE_DIR": str(instance),
        "SIJIL_BASE_URL": BASE_URL,
        "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
        "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    assert runner.invoke(issuer_cli, ["init"]).exit_code == 0
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png_logo())
    done = runner.invoke(
        issuer_cli,
        [
            *("issuers", "brand", "--primary", "#0B4F6C"),
            *("--name-ms", "Universiti Ujian", "--logo", str(logo)),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "primary #0b4f6c" in done.output
    assert f"logo {LOGO_URL}" in done.output
    refused = runner.invoke(issuer_cli, ["issuers", "brand", "--accent", "#eeeeee"])
    assert refused.exit_code != 0
    assert "MALFORMED_VALUE_ERROR" in refused.output


def test_brand_built_in_code_is_checked_too(branded: WebIssuer) -> None:
    with pytest.raises(MalformedValueError) as raised:
        update_issuer(
            branded.rt, "default", actor="test", brand=BrandChanges(accent_colour="#f0f0f0")
        )
    assert raised.value.pointer == "/accentColor"
    assert issuer_brand(branded.rt).accent_colour == ACCENT


def test_brand_version_follows_the_colours(branded: WebIssuer) -> None:
    brand = issuer_brand(branded.rt)
    assert replace(brand, primary_colour="#000000").version != brand.version
    assert replace(brand, logo=None).version != brand.version
