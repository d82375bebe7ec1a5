"""The verifier's human page in a real headless Chromium over real HTTP.

Each verdict is opened the way an employer would (a QR link carrying the credential, the
upload form, the paste form, a photo of a QR code, the live camera) and asserted by its text;
axe-core finds no serious or critical accessibility violations; the strict CSP holds (no
console errors); screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import qrcode
import verifier_fixtures as fixtures
from _https import LocalServer, Route
from browser import (
    ConsoleLog,
    another_chromium,
    assert_fits_phone,
    chromium,
    live_server,
    new_page,
    run_axe,
    screenshot,
    serious_violations,
)
from PIL import Image
from playwright.sync_api import Browser, Page
from verifier_fixtures import status_entry, status_list
from verifier_trust import trust_for
from verifier_web_credentials import (
    ACHIEVEMENT_NAME,
    ISSUER_NAME,
    LEARNER_NAME,
    coa,
    issuer_key,
    sign,
    tampered,
    tiny_png,
)

from verifier.baked import bake_png
from verifier.links import pack_credential
from verifier.settings import VerifierSettings
from verifier.trust import TrustedIssuer, TrustList
from verifier.web import create_app

pytestmark = pytest.mark.browser

#: verdict key -> (English text, Malay text) the page must show.
VERDICT_TEXT = {
    "valid": ("Valid", "Sah"),
    "invalid": ("Invalid", "Tidak sah"),
    "expired": ("Expired", "Tamat tempoh"),
    "revoked": ("Revoked", "Dibatalkan"),
    "suspended": ("Suspended", "Digantung"),
    "unknown_issuer": (
        "Signature valid, issuer not recognised",
        "Tandatangan betul, pengeluar tidak dikenali",
    ),
    "status_unknown": ("Could not check status", "Status tidak dapat disemak"),
}


@dataclass(frozen=True)
class Site:
    """The running servers and the credentials of this module."""

    base: str
    trusting_base: str
    docs: LocalServer
    credentials: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    key = issuer_key()
    with LocalServer(None) as docs:
        list_url = docs.url("/status/1")
        docs.routes["/status/1"] = Route.json(
            status_list(key, list_url, set_bits=[3]), media_type="application/vc+ld+json"
        )
        suspended_url = docs.url("/status/2")
        docs.routes["/status/2"] = Route.json(
            status_list(key, suspended_url, set_bits=[4], purpose="suspension"),
            media_type="application/vc+ld+json",
        )
        valid = sign(coa(key, status=status_entry(list_url, 1)), key)
        credentials = {
            "valid": valid,
            "invalid": tampered(valid),
            "expired": sign(coa(key, valid_until="2026-02-01T00:00:00Z"), key),
            "revoked": sign(coa(key, status=status_entry(list_url, 3)), key),
            "suspended": sign(coa(key, status=status_entry(suspended_url, 4, "suspension")), key),
            "status_unknown": sign(coa(key, status=status_entry(docs.url("/status/gone"), 1)), key),
            "unknown_issuer": valid,
        }
        docs.routes["/credentials/valid"] = Route.json(valid, media_type="application/vc+ld+json")
        settings = VerifierSettings(allow_local_fetch=True)
        other = TrustList.from_issuers([TrustedIssuer("did:web:other.example.my", "Other")])
        # "trusting_base" recognises another issuer only; "base" recognises this module's.
        trusting = create_app(settings, verifier=settings.build_verifier(trust=other))
        mms_issuer = fixtures.key_from_seed(31)  # test_mms_upload_shows_the_stacked_coas
        ours = create_app(
            settings, verifier=settings.build_verifier(trust=trust_for(key, mms_issuer))
        )
        with live_server(ours) as base, live_server(trusting) as trusting_base:
            yield Site(base, trusting_base, docs, credentials)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    found = new_page(browser, mobile=True)
    yield found
    found.context.close()


def assert_verdict(page: Page, verdict: str) -> None:
    english, malay = VERDICT_TEXT[verdict]
    heading = page.locator("h1#verdict-h")
    heading.wait_for()
    assert page.locator("section[data-verdict]").get_attribute("data-verdict") == verdict
    assert page.locator("h1#verdict-h .verdict-en").inner_text().strip() == english
    assert page.locator("h1#verdict-h .verdict-ms").inner_text().strip() == malay


@pytest.mark.parametrize("verdict", list(VERDICT_TEXT))
def test_qr_link_shows_each_verdict(page: Page, site: Site, verdict: str) -> None:
    console = ConsoleLog(page)
    base = site.trusting_base if verdict == "unknown_issuer" else site.base
    page.goto(f"{base}/verify?c={pack_credential(site.credentials[verdict])}")
    assert_verdict(page, verdict)
    if verdict != "invalid":
        facts = page.locator("dl.facts").inner_text()
        for text in (ISSUER_NAME, LEARNER_NAME, ACHIEVEMENT_NAME, "2026-01-15", "Credits"):
            assert text in facts
    page.locator("#checks summary").click()
    assert page.locator("#checks li").count() == 7
    assert page.locator("#checks li").first.is_visible()
    assert_fits_phone(page)
    screenshot(page, f"verifier-verdict-{verdict}")
    assert console.errors == []


def test_url_link_fetches_and_shows_valid(page: Page, site: Site) -> None:
    url = site.docs.url("/credentials/valid")
    page.goto(f"{site.base}/verify?url={quote(url, safe='')}")
    assert_verdict(page, "valid")


def test_upload_form_with_json_file_and_baked_png(page: Page, site: Site, tmp_path: Path) -> None:
    console = ConsoleLog(page)
    json_file = tmp_path / "credential.json"
    json_file.write_text(json.dumps(site.credentials["invalid"]), encoding="utf-8")
    page.goto(site.base + "/")
    assert_fits_phone(page)
    screenshot(page, "verifier-home-phone")
    page.set_input_files("#credential-file", str(json_file))
    page.locator("#upload-form button[type=submit]").click()
    assert_verdict(page, "invalid")

    png_file = tmp_path / "badge.png"
    png_file.write_bytes(bake_png(tiny_png(), site.credentials["valid"]))
    page.goto(site.base + "/")
    page.set_input_files("#credential-file", str(png_file))
    page.locator("#upload-form button[type=submit]").click()
    assert_verdict(page, "valid")
    assert console.errors == []


def test_paste_form_with_a_verification_link(page: Page, site: Site) -> None:
    page.goto(site.base + "/")
    link = (
        f"https://verify.elsewhere.example/verify?c={pack_credential(site.credentials['expired'])}"
    )
    page.fill("#credential-text", link)
    page.locator("#paste-form button[type=submit]").click()
    assert_verdict(page, "expired")


def qr_image(text: str, path: Path, *, size: int | None = None) -> Path:
    image = qrcode.make(text, box_size=6, border=4).get_image().convert("L")
    if size is not None:
        canvas = Image.new("L", (size, size), 255)
        image.thumbnail((size - 40, size - 40))
        canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
        image = canvas
    image.save(path)
    return path


def test_scan_from_a_photo_of_the_qr_code(page: Page, site: Site, tmp_path: Path) -> None:
    console = ConsoleLog(page)
    link = f"{site.base}/verify?c={pack_credential(site.credentials['revoked'])}"
    photo = qr_image(link, tmp_path / "certificate-qr.png")
    page.goto(site.base + "/")
    assert page.locator("#scan-photo-label").is_visible()
    page.set_input_files("#scan-photo", str(photo))
    page.wait_for_url(f"{site.base}/verify?c=*")
    assert_verdict(page, "revoked")
    assert console.errors == []


def write_y4m(image_path: Path, out: Path, *, frames: int = 4) -> Path:
    """A grey-scale YUV4MPEG2 video of ``image_path`` (Chromium's fake camera plays it)."""
    image = Image.open(image_path).convert("L")
    width, height = image.width - image.width % 2, image.height - image.height % 2
    image = image.crop((0, 0, width, height))
    luma = image.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with out.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + luma + chroma + chroma)
    return out


def test_scan_with_the_camera(browser: Browser, site: Site, tmp_path: Path) -> None:
    target = site.docs.url("/credentials/valid")
    link = f"{site.base}/verify?url={quote(target, safe='')}"
    video = write_y4m(qr_image(link, tmp_path / "qr.png", size=480), tmp_path / "qr.y4m")
    fake_camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with another_chromium(browser, extra_args=fake_camera) as camera_browser:
        context = camera_browser.new_context(viewport={"width": 390, "height": 844})
        context.grant_permissions(["camera"], origin=site.base)
        page = context.new_page()
        console = ConsoleLog(page)
        page.goto(site.base + "/")
        start = page.locator("#scan-start")
        assert start.is_visible()
        start.click()
        page.wait_for_url(f"{site.base}/verify?url=*", timeout=20_000)
        assert_verdict(page, "valid")
        assert console.errors == []
        context.close()


@pytest.mark.parametrize("where", ["home", "valid", "invalid", "error"])
def test_no_serious_accessibility_violations(page: Page, site: Site, where: str) -> None:
    paths = {
        "home": "/",
        "valid": f"/verify?c={pack_credential(site.credentials['valid'])}",
        "invalid": f"/verify?c={pack_credential(site.credentials['invalid'])}",
        "error": "/verify?c=broken!",
    }
    page.goto(site.base + paths[where])
    if where != "home" and where != "error":
        page.locator("#checks summary").click()
    if where == "error":
        screenshot(page, "verifier-error-page")
    violations = run_axe(page)
    assert serious_violations(violations) == []


def test_csp_blocks_inline_script(page: Page, site: Site) -> None:
    """The policy is really enforced: an injected inline script does not run."""
    console = ConsoleLog(page)
    page.goto(site.base + "/")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__inline_ran = true';
                   document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.__inline_ran === true") is False
    assert console.csp_violations()


def test_trusted_issuer_name_comes_from_the_list(browser: Browser, site: Site) -> None:
    """With the issuer on the list the same credential is valid (control for unknown_issuer)."""
    credential = site.credentials["valid"]
    issuer = credential["issuer"]["id"]
    settings = VerifierSettings(allow_local_fetch=True)
    trust = TrustList.from_issuers([TrustedIssuer(issuer, "Universiti Contoh")])
    app = create_app(settings, verifier=settings.build_verifier(trust=trust))
    with live_server(app) as base:
        page = new_page(browser)
        page.goto(f"{base}/verify?c={pack_credential(credential)}")
        assert_verdict(page, "valid")
        screenshot(page, "verifier-verdict-valid-desktop")
        page.context.close()


def test_mms_upload_shows_the_stacked_coas(page: Page, site: Site, tmp_path: Path) -> None:
    issuer = fixtures.key_from_seed(31)
    learner = fixtures.Learner(LEARNER_NAME, "aisyah@example.com", "salt-aisyah")
    units = [("DS101", "Data Analytics Fundamentals"), ("DS102", "Machine Learning Basics")]
    coas = [
        fixtures.coa_for(issuer, learner, code, name, serial=index + 1)
        for index, (code, name) in enumerate(units)
    ]
    mms = fixtures.sign(fixtures.build_mms(issuer, learner, coas), issuer)
    mms_file = tmp_path / "mms.json"
    mms_file.write_text(json.dumps(mms), encoding="utf-8")
    page.goto(site.base + "/")
    page.set_input_files("#credential-file", str(mms_file))
    page.locator("#upload-form button[type=submit]").click()
    assert_verdict(page, "valid")
    stacked = page.locator("#components-h + ul").inner_text()
    for _, name in units:
        assert name in stacked
    # Every stacked COA of a genuine MMS reads valid, never "Invalid / Tidak sah".
    verdicts = page.locator("li.component").evaluate_all(
        "(items) => items.map(i => i.dataset.verdict)"
    )
    assert verdicts == ["valid", "valid"]
    assert "Tidak sah" not in stacked
    assert_fits_phone(page)
    screenshot(page, "verifier-verdict-mms")
