"""Every verifier page at phone width (390 px) in a real Chromium: the home page, the result
page for each verdict, the error pages and the stale-status warning fit without sideways
scrolling, read in both languages, keep the strict CSP (no console errors) and have no serious
accessibility violations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _https import LocalServer, Route
from browser import (
    ConsoleLog,
    assert_fits_phone,
    chromium,
    live_server,
    new_page,
    run_axe,
    screenshot,
    serious_violations,
)
from playwright.sync_api import Browser, Page
from verifier_fixtures import status_entry, status_list
from verifier_trust import trust_for
from verifier_web_credentials import coa, issuer_key, sign, tampered

from keys.dataintegrity import add_proof
from keys.keypair import KeyPair
from verifier.links import pack_credential
from verifier.settings import VerifierSettings
from verifier.trust import TrustedIssuer, TrustList
from verifier.web import create_app

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    base: str
    untrusting_base: str
    docs: LocalServer
    credentials: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def _unreachable_issuer() -> dict[str, Any]:
    """A credential whose did:web issuer answers nowhere (nothing listens on port 9)."""
    did = "did:web:localhost%3A9"
    key = KeyPair.generate("Ed25519", id=f"{did}#key-1")
    doc = coa(key)
    doc["issuer"]["id"] = did
    return add_proof(doc, key, verification_method=f"{did}#key-1", created="2026-01-15T00:00:00Z")


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    key = issuer_key()
    with LocalServer(None) as docs:
        revocations = docs.url("/status/1")
        docs.routes["/status/1"] = Route.json(
            status_list(key, revocations, set_bits=[3]), media_type="application/vc+ld+json"
        )
        suspensions = docs.url("/status/2")
        docs.routes["/status/2"] = Route.json(
            status_list(key, suspensions, set_bits=[4], purpose="suspension"),
            media_type="application/vc+ld+json",
        )
        flaky = docs.url("/status/flaky")
        docs.routes["/status/flaky"] = Route.json(
            status_list(key, flaky), media_type="application/vc+ld+json"
        )
        valid = sign(coa(key, status=status_entry(revocations, 1)), key)
        credentials = {
            "valid": valid,
            "invalid": tampered(valid),
            "expired": sign(coa(key, valid_until="2026-02-01T00:00:00Z"), key),
            "revoked": sign(coa(key, status=status_entry(revocations, 3)), key),
            "suspended": sign(coa(key, status=status_entry(suspensions, 4, "suspension")), key),
            "status_unknown": sign(coa(key, status=status_entry(docs.url("/status/gone"), 1)), key),
            "unknown_issuer": valid,
            "could_not_check": _unreachable_issuer(),
            "stale": sign(coa(key, status=status_entry(flaky, 1)), key),
        }
        # A 1 ms fresh cache: every page load fetches the status lists again.
        settings = VerifierSettings(
            allow_local_fetch=True,
            status_cache_ttl=0.001,
            operator="Jabatan Sumber Manusia, Syarikat Contoh Berhad",
        )
        ours = create_app(settings, verifier=settings.build_verifier(trust=trust_for(key)))
        other = TrustList.from_issuers([TrustedIssuer("did:web:other.example.my", "Other")])
        untrusting = create_app(settings, verifier=settings.build_verifier(trust=other))
        with live_server(ours) as base, live_server(untrusting) as untrusting_base:
            yield Site(base, untrusting_base, docs, credentials)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    found = new_page(browser, mobile=True)
    yield found
    found.context.close()


def assert_fits_the_phone(page: Page, name: str) -> None:
    screenshot(page, f"employer-phone-{name}")
    assert_fits_phone(page, name)


def assert_accessible(page: Page) -> None:
    assert serious_violations(run_axe(page)) == []


def test_home_fits_and_names_the_operator(page: Page, site: Site) -> None:
    console = ConsoleLog(page)
    page.goto(site.base + "/")
    assert "Jabatan Sumber Manusia" in page.locator("header.site").inner_text()
    assert_fits_the_phone(page, "home")
    assert_accessible(page)
    assert console.errors == []


@pytest.mark.parametrize(
    "verdict",
    [
        "valid",
        "invalid",
        "expired",
        "revoked",
        "suspended",
        "status_unknown",
        "unknown_issuer",
        "could_not_check",
    ],
)
def test_each_verdict_fits_the_phone(page: Page, site: Site, verdict: str) -> None:
    console = ConsoleLog(page)
    base = site.untrusting_base if verdict == "unknown_issuer" else site.base
    page.goto(f"{base}/verify?c={pack_credential(site.credentials[verdict])}")
    section = page.locator("section[data-verdict]")
    assert section.get_attribute("data-verdict") == verdict
    assert page.locator("h1#verdict-h .verdict-ms").inner_text().strip()
    if verdict != "invalid":
        assert "(UTC+08:00)" in page.locator("dl.facts").inner_text()
    assert_fits_the_phone(page, f"verdict-{verdict}")
    page.locator("#checks summary").click()
    assert_fits_the_phone(page, f"verdict-{verdict}-details")
    assert_accessible(page)
    assert console.errors == []


def test_error_pages_fit_and_read_plainly(page: Page, site: Site) -> None:
    site.docs.routes["/credentials/withdrawn"] = Route(status=410, body=b"gone")
    page.goto(site.base + "/")
    page.fill("#credential-text", "this is not a credential at all")
    page.locator("#paste-form button[type=submit]").click()
    assert "This is not a credential we can read" in page.locator("h1").inner_text()
    assert not page.locator("details code").first.is_visible()
    assert_fits_the_phone(page, "error-garbage")
    assert_accessible(page)

    page.goto(site.base + "/")
    page.fill("#credential-text", site.docs.url("/credentials/withdrawn"))
    page.locator("#paste-form button[type=submit]").click()
    heading = page.locator("h1").inner_text()
    assert "Not found at the issuer" in heading
    assert "Tidak ditemui di pihak pengeluar" in heading
    assert_fits_the_phone(page, "error-not-found")

    page.goto(site.base + "/no-such-page")
    assert_fits_the_phone(page, "error-404")


def test_stale_status_warning_fits_the_phone(page: Page, site: Site) -> None:
    link = f"{site.base}/verify?c={pack_credential(site.credentials['stale'])}"
    page.goto(link)
    assert page.locator("section[data-verdict]").get_attribute("data-verdict") == "valid"
    site.docs.routes["/status/flaky"] = Route(status=503, body=b"maintenance")
    page.goto(link)
    assert page.locator("section[data-verdict]").get_attribute("data-verdict") == "valid"
    stale = page.locator("li.stale")
    assert "Status as of" in stale.inner_text()
    assert "Status setakat" in stale.inner_text()
    assert stale.get_attribute("data-code") == "STALE_STATUS_LIST"
    assert_fits_the_phone(page, "stale-status")
