"""Issue -> mail -> claim link -> PDF -> scan its QR -> the verifier says valid; revoke -> revoked.

Everything real, end to end: the issuer served over HTTPS (a throw-away CA; did:web resolves
over HTTPS only) with status lists, a verifier web app over HTTP whose SSRF-guarded fetcher
trusts that CA, and headless Chromium. The award is issued through the issuer's API
(``POST /progress``), its claim link read from the mail the issuer sent to the (dev) outbox, the
PDF downloaded through the learner page, rendered by PDFium and its QR decoded by zxing-cpp.
The decoded link opens the verifier page: "Valid"; after ``POST /awards/<id>/revoke`` the same
link says "Revoked". Screenshots go to test-artifacts/screenshots/.

Chromium trusts exactly the issuer's test certificate (``--ignore-certificate-errors-spki-list``
with its key's hash), not every certificate.
"""

from __future__ import annotations

import base64
import email
import hashlib
import json
import ssl
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp
from _https import TLSFiles, make_tls
from browser import SCREENSHOTS, chromium, new_page, screenshot
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from issuer_web_support import WebIssuer, auth, web_issuer
from playwright.sync_api import Browser, Page

from issuer.delivery.mail import OutboxMailer
from issuer.delivery.notify import deliver_learner_mail
from issuer.devserver import ServerThread
from issuer.exports.qr import verifier_link
from issuer.services.awards import get_award
from issuer.services.demo import seed_demo
from issuer.services.issuance import own_issuers
from issuer.services.status import install_status_lists
from issuer.web.learner import LearnerConfig, configure_learner, learner
from keys.fetch import SafeFetcher
from keys.resolve import Resolver
from verifier.report import Verifier
from verifier.settings import VerifierSettings
from verifier.status import StatusListClient
from verifier.web.app import create_app as create_verifier_app

pytestmark = pytest.mark.browser

LEARNER = "S7001"
LEARNER_NAME = "Tan Mei Ling 陈美玲"
LEARNER_EMAIL = "tan.meiling@student.example.edu.my"


@dataclass
class _Clock:
    """The verifier's status-list cache clock, moved past the list's ttl between checks."""

    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    web: WebIssuer
    tls: TLSFiles
    issuer_base: str
    verifier_base: str
    outbox: Path
    clock: _Clock

    def api(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        """POST JSON to the issuer over HTTPS (certificate checked against the test CA)."""
        request = urllib.request.Request(
            self.issuer_base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **auth(self.web.tokens[token])},
            method="POST",
        )
        context = ssl.create_default_context(cafile=self.tls.cafile)
        with urllib.request.urlopen(request, timeout=60, context=context) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("qr")
    tls = make_tls(folder / "tls")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tls.certfile, tls.keyfile)
    holder: dict[str, Any] = {}

    def issuer_wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    issuer_server = ServerThread(issuer_wsgi, "127.0.0.1", 0, ssl_context=server_ctx)
    issuer_base = f"https://localhost:{issuer_server.port}"
    clock = _Clock()
    fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
    resolver = Resolver(fetcher)
    verifier = Verifier(
        resolver=resolver,
        fetcher=fetcher,
        status_client=StatusListClient(fetcher, resolver, clock=clock),
    )
    verifier_server = ServerThread(
        create_verifier_app(VerifierSettings(allow_local_fetch=True), verifier=verifier),
        "127.0.0.1",
        0,
    )
    verifier_base = f"http://127.0.0.1:{verifier_server.port}"
    outbox = folder / "outbox"
    with web_issuer(folder / "instance", base_url=issuer_base) as web:
        install_status_lists(web.rt)
        seed_demo(web.rt)
        verifier.trust = own_issuers(web.rt)  # the employer's verifier recognises the issuer
        if "learner" not in web.app.blueprints:
            web.app.register_blueprint(learner)
        # The QR code and share links point at the verifier; issuing mails to the outbox.
        configure_learner(web.app, LearnerConfig(verifier_base, OutboxMailer(outbox)))
        holder["app"] = web.app
        issuer_server.start()
        verifier_server.start()
        try:
            yield Site(web, tls, issuer_base, verifier_base, outbox, clock)
        finally:
            verifier_server.stop()
            issuer_server.stop()


def _spki_hash(certfile: str) -> str:
    """base64 SHA-256 of the certificate's public key (Chromium's SPKI pin format)."""
    cert = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    pin = f"--ignore-certificate-errors-spki-list={_spki_hash(site.tls.certfile)}"
    with chromium(extra_args=[pin]) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    found = new_page(browser)
    try:
        yield found
    finally:
        found.context.close()


def _esg_events() -> list[dict[str, Any]]:
    who = {"learnerEmail": LEARNER_EMAIL, "learnerName": LEARNER_NAME}
    return [
        {
            "learner": LEARNER,
            "microCredential": "ESG201",
            "type": "materialCompleted",
            "item": f"ESG201-M{i}",
            **who,
        }
        for i in (1, 2)
    ]


def _claim_link_from_outbox(site: Site) -> str:
    mails = [email.message_from_bytes(p.read_bytes()) for p in site.outbox.glob("*.eml")]
    mine = [m for m in mails if m["To"] == LEARNER_EMAIL]
    assert len(mine) == 1, [m["To"] for m in mails]
    payload = mine[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return next(w for w in payload.decode("utf-8").split() if "/claim/" in w)


def _pdf_qr(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        pdf_page = document[0]
        image = pdf_page.render(scale=2).to_pil()
        pdf_page.close()
    finally:
        document.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "learner-qr-certificate-pdf.png")
    return [result.text for result in zxingcpp.read_barcodes(image)]


def _verdict(page: Page) -> tuple[str | None, str, str]:
    """(data-verdict, English heading, Malay heading) of the verifier's result page."""
    return (
        page.locator("section[data-verdict]").get_attribute("data-verdict"),
        page.locator("h1#verdict-h .verdict-en").inner_text().strip(),
        page.locator("h1#verdict-h .verdict-ms").inner_text().strip(),
    )


def test_issue_download_pdf_scan_qr_valid_then_revoked(
    site: Site, page: Page, tmp_path: Path
) -> None:
    outcome = site.api("/progress", {"events": _esg_events()}, "issue")
    assert [(a["learner"], a["awardType"]) for a in outcome["issued"]] == [(LEARNER, "COC")]
    award_id = outcome["issued"][0]["id"]
    credential_id = outcome["issued"][0]["credentialId"]
    assert credential_id.startswith(site.issuer_base + "/")

    # The outbox worker's job (no worker runs in this test): deliver the queued mail now.
    deliver_learner_mail(site.web.rt, mailer=lambda: OutboxMailer(site.outbox))
    claim = _claim_link_from_outbox(site)
    assert claim.startswith(site.issuer_base + "/claim/")
    page.goto(claim)
    card = page.locator(f"#award-{award_id}")
    assert "Sustainability Reporting Essentials" in card.inner_text()
    screenshot(page, "learner-qr-learner-page")
    card.locator("details.actions > summary").click()
    with page.expect_download() as info:
        card.locator('a.download[data-format="pdf"]').click()
    pdf_path = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf_path)
    assert pdf_path.suffix == ".pdf"

    scanned = _pdf_qr(pdf_path.read_bytes())
    assert scanned == [verifier_link(site.verifier_base, credential_id)]
    link = scanned[0]
    assert link.startswith(site.verifier_base + "/verify?")

    page.goto(link)
    assert _verdict(page) == ("valid", "Valid", "Sah")
    assert LEARNER_NAME in page.locator("main").inner_text()
    screenshot(page, "learner-qr-verifier-valid")

    site.api(f"/awards/{award_id}/revoke", {"reason": "issued in error"}, "admin")
    assert get_award(site.web.rt, award_id).status == "revoked"
    site.clock.now += 3600.0  # past the status list's ttl: the verifier fetches it again
    page.goto(link)
    assert _verdict(page) == ("revoked", "Revoked", "Dibatalkan")
    screenshot(page, "learner-qr-verifier-revoked")
