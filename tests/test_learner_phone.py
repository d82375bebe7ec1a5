"""The learner's pages on a phone (390 px, real Chromium): nothing scrolls sideways, the MMS comes
first with its certificates under it, everything is in English and Malay, and a revoked award
says so (with its date and reason) and can no longer be shared or printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import (
    assert_fits_phone,
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
from issuer.services.awards import list_awards
from issuer.services.status import change_status
from issuer.wallet.offers import create_offer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebIssuer, str]]:
    with (
        web_issuer(tmp_path_factory.mktemp("phone"), demo=True, status_lists=True) as issuer,
        live_server(issuer.app) as base,
    ):
        yield issuer, base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, mobile=True)
    try:
        yield page
    finally:
        page.context.close()


def _claim(issuer: WebIssuer, learner: str) -> str:
    return make_claim_token(issuer.rt.settings.secret_key, learner, at=issuer.rt.now())


def test_learner_page_fits_a_phone_with_the_mms_first(
    site: tuple[WebIssuer, str], phone: Page
) -> None:
    issuer, base = site
    phone.goto(f"{base}/claim/{_claim(issuer, 'S1001')}")
    assert_fits_phone(phone)
    screenshot(phone, "learner-phone")
    first = phone.locator("article.credential").first
    assert "award-mms" in (first.get_attribute("class") or "")
    nested = phone.locator("section.programme details.stacked article.credential")
    assert nested.count() >= 1
    assert phone.locator("[lang=ms]").count() > 10
    assert serious_violations(run_axe(phone)) == []


def test_other_learner_pages_fit_a_phone(site: tuple[WebIssuer, str], phone: Page) -> None:
    issuer, base = site
    award = next(a for a in list_awards(issuer.rt, learner="S1002", limit=None))
    offer = create_offer(
        issuer.rt, learner=None, award_ids=[award.id], bind_holder=True, actor="test"
    )
    for url in (
        f"{base}/claim/request",
        f"{base}/claim/not-a-valid-token",
        f"{base}/interactions/{offer.id}?iuv=1",
    ):
        phone.goto(url)
        assert_fits_phone(phone)
    phone.goto(f"{base}/claim/{_claim(issuer, 'S1002')}")
    phone.locator("details.actions > summary").first.click()
    phone.locator("details.actions form.add-to-wallet button").first.click()
    phone.wait_for_selector("p.qr img")
    assert_fits_phone(phone)
    screenshot(phone, "wallet-offer-phone")


def test_revoked_award_says_so_and_is_withdrawn(site: tuple[WebIssuer, str], phone: Page) -> None:
    issuer, base = site
    coa = next(
        a
        for a in list_awards(issuer.rt, learner="S1003", limit=None)
        if a.award_type == "COA" and a.status == "active"
    )
    change_status(issuer.rt, [coa.id], "revoke", reason="Issued in error", actor="test")
    phone.goto(f"{base}/claim/{_claim(issuer, 'S1003')}")
    assert_fits_phone(phone)
    card = phone.locator(f"#award-{coa.id}")
    status = card.locator("dd.status")
    assert status.get_attribute("data-status") == "revoked"
    assert "Revoked" in status.inner_text()
    assert "Dibatalkan" in status.inner_text()
    assert "Issued in error" in status.inner_text()
    assert card.locator("a.linkedin").count() == 0
    assert card.locator('a[data-format="pdf"]').count() == 0
    assert card.locator("form.add-to-wallet").count() == 0
    screenshot(phone, "learner-revoked-phone")


def test_mms_stacking_a_revoked_coa_asks_for_reissue(
    site: tuple[WebIssuer, str], phone: Page, tmp_path: Path
) -> None:
    issuer, base = site
    mms = next(
        (a for a in list_awards(issuer.rt, learner="S1001", limit=None) if a.award_type == "MMS"),
        None,
    )
    assert mms is not None
    part = mms.credential()["credentialSubject"]["verifiableCredential"][0]["id"]
    coa = next(
        a for a in list_awards(issuer.rt, learner="S1001", limit=None) if a.credential_id == part
    )
    change_status(issuer.rt, [coa.id], "revoke", reason="Grade corrected", actor="test")
    phone.goto(f"{base}/claim/{_claim(issuer, 'S1001')}")
    notice = phone.locator(f"#award-{mms.id} .needs-reissue")
    assert notice.count() == 1
    assert "re-issued" in notice.inner_text()
    assert_fits_phone(phone)
