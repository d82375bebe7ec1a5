"""The learner's claim link in a real headless Chromium over real HTTP.

Claim link -> learner page -> download each format -> the downloaded JSON, PNG and SVG verify
with the verifier's code, and the PDF's QR code (rendered by PDFium, decoded by zxing-cpp)
opens the verifier page for that credential. Screenshots of the learner page and of the PDF
page go to test-artifacts/screenshots/; axe-core finds no serious accessibility violations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp
from browser import (
    SCREENSHOTS,
    ConsoleLog,
    chromium,
    live_server,
    new_page,
    run_axe,
    screenshot,
    serious_violations,
)
from issuer_web_support import WebIssuer, web_issuer
from playwright.sync_api import Browser, Page

from issuer.delivery.claims import make_claim_token
from issuer.delivery.mail import OutboxMailer
from issuer.exports.facts import certificate_facts
from issuer.exports.qr import verifier_link
from issuer.services.awards import list_awards
from issuer.services.issuance import own_issuers
from issuer.services.runtime import OfflineFetcher
from issuer.web.learner import LearnerConfig, configure_learner, learner
from verifier.report import verify_credential

pytestmark = pytest.mark.browser

VERIFIER = "https://verify.test.example"


@dataclass
class Site:
    web: WebIssuer
    base: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as web:
        if "learner" not in web.app.blueprints:
            web.app.register_blueprint(learner)
        outbox = OutboxMailer(tmp_path_factory.mktemp("outbox"))
        configure_learner(web.app, LearnerConfig(VERIFIER, outbox))
        with live_server(web.app) as base:
            yield Site(web, base)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser)
    try:
        yield page
    finally:
        page.context.close()


def _claim_url(site: Site, learner_id: str) -> str:
    rt = site.web.rt
    return f"{site.base}/claim/{make_claim_token(rt.settings.secret_key, learner_id, at=rt.now())}"


def test_claim_link_download_every_format_and_scan_the_pdf(
    page: Page, site: Site, tmp_path: Path
) -> None:
    console = ConsoleLog(page)
    page.goto(_claim_url(site, "S1001"))
    award = next(
        a for a in list_awards(site.web.rt, learner="S1001", limit=None) if a.award_type == "MMS"
    )
    card = page.locator(f"#award-{award.id}")
    assert certificate_facts(award.credential()).achievement_name in card.locator("h2").inner_text()
    assert "Active" in card.locator(".status").inner_text()
    screenshot(page, "learner-page")
    files: dict[str, Path] = {}
    for fmt in ("json", "png", "svg", "pdf"):
        with page.expect_download() as info:
            card.locator(f'a.download[data-format="{fmt}"]').click()
        download = info.value
        assert download.suggested_filename.endswith(f".{fmt}")
        files[fmt] = tmp_path / download.suggested_filename
        download.save_as(files[fmt])
    for fmt in ("json", "png", "svg"):
        report = verify_credential(
            files[fmt].read_bytes(),
            resolver=site.web.rt.resolver,
            fetcher=OfflineFetcher(),
            check_status=False,
            trust=own_issuers(site.web.rt),
        )
        assert report.verified, (fmt, report.to_dict()["errors"])
    document = pypdfium2.PdfDocument(files["pdf"].read_bytes())
    try:
        pdf_page = document[0]
        image = pdf_page.render(scale=2).to_pil()
        pdf_page.close()
    finally:
        document.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "learner-certificate-pdf.png")
    texts = [result.text for result in zxingcpp.read_barcodes(image)]
    assert texts == [verifier_link(VERIFIER, award.credential_id)]
    assert console.csp_violations() == []


def test_learner_page_has_no_serious_accessibility_violations(page: Page, site: Site) -> None:
    page.goto(_claim_url(site, "S1001"))
    assert serious_violations(run_axe(page)) == []
