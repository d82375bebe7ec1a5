"""The registrar's whole task in a real headless Chromium over real HTTP, at desktop and
tablet widths: the sign-in link printed by ``sijil-issuer staff add --print-link`` -> import a
progress CSV with bad rows -> the preview lists them before anything is stored -> fix and
confirm -> find the learner -> revoke one award with a reason -> the award shows revoked and
the verifier reports it revoked. Screenshots go to test-artifacts/screenshots/; axe-core finds
no serious or critical violations on any page visited.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import (
    ConsoleLog,
    chromium,
    live_server,
    new_page,
    run_axe,
    screenshot,
    serious_violations,
)
from click.testing import CliRunner
from console_support import BASE_URL, ConsoleIssuer, console_issuer
from playwright.sync_api import Page, expect

from issuer.cli import cli
from issuer.console.staff import issue_sign_in_link
from issuer.services.awards import get_award, list_awards
from issuer.services.status import OwnStatusListFetcher
from verifier.report import verify_credential

pytestmark = pytest.mark.browser

BAD_CSV = (
    "learner_id,micro_credential,event,item,score,grade,occurred_at,learner_email,learner_name\n"
    "S2001,DAF101,material_completed,DAF101-M1,,,,nur@student.example.edu.my,Nur Aisyah\n"
    "S2001,DAF101,material_completed,DAF101-M2,,,,nur@student.example.edu.my,Nur Aisyah\n"
    "S2001,DAF101,assessment_result,DAF101-QZ,eighty,,,,\n"
    "S2001,DAF10l,material_completed,DAF101-M1,,,,,\n"
)
FIXED_CSV = (
    "learner_id,micro_credential,event,item,score,grade,occurred_at,learner_email,learner_name\n"
    "S2001,DAF101,material_completed,DAF101-M1,,,,nur@student.example.edu.my,Nur Aisyah\n"
    "S2001,DAF101,material_completed,DAF101-M2,,,,nur@student.example.edu.my,Nur Aisyah\n"
    "S2001,DAF101,assessment_result,DAF101-QZ,80,,,,\n"
    "S2001,DAF101,assessment_result,DAF101-PJ,75,,,,\n"
)
WIDTHS = {"desktop": (1280, 900), "tablet": (768, 1024)}


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConsoleIssuer]:
    instance = tmp_path / "instance"
    with console_issuer(instance) as made:
        env = {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield made


def _check(page: Page, name: str, log: ConsoleLog) -> None:
    screenshot(page, name)
    assert serious_violations(run_axe(page)) == [], name
    assert log.csp_violations() == [], name


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_registrar_imports_finds_and_revokes(issuer: ConsoleIssuer, width: str) -> None:
    printed = CliRunner().invoke(
        cli, ["staff", "add", "officer@example.edu", "--role", "registrar", "--print-link"]
    )
    assert printed.exit_code == 0, printed.output
    link = printed.output.strip().splitlines()[-1]
    assert link.startswith(f"{BASE_URL}/console/sign-in/")
    w, h = WIDTHS[width]
    with live_server(issuer.app) as base, chromium() as browser:
        page = new_page(browser)
        page.set_viewport_size({"width": w, "height": h})
        log = ConsoleLog(page)
        shot = f"console-{width}"

        page.goto(link.replace(BASE_URL, base))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{base}/console/")
        assert "officer@example.edu" in page.content()
        _check(page, f"{shot}-1-dashboard", log)

        page.get_by_role("link", name="Progress import").click()
        page.locator("#text").fill(BAD_CSV)
        page.get_by_role("button", name="Preview").click()
        bad = page.locator("#bad-row-table tbody tr")
        expect(bad).to_have_count(2)
        assert bad.count() == 2
        assert bad.nth(0).locator("td").first.inner_text() == "4"
        assert "score" in bad.nth(0).inner_text()
        assert bad.nth(1).locator("td").first.inner_text() == "5"
        assert "DAF10l" in bad.nth(1).inner_text()
        assert not [a for a in list_awards(issuer.rt) if a.learner == "S2001"]
        _check(page, f"{shot}-2-preview", log)

        page.locator("#text").fill(FIXED_CSV)
        page.locator("#preview-again").click()
        expect(page.locator("#bad-rows")).to_have_text("0")
        page.locator("#confirm-import").click()
        issued = page.locator("#issued tbody")
        expect(issued).to_contain_text("S2001")
        assert "S2001" in issued.inner_text()
        assert "COA" in issued.inner_text()
        _check(page, f"{shot}-3-summary", log)

        page.get_by_role("link", name="Learners", exact=True).click()
        page.get_by_role("searchbox").fill("Nur Aisyah")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Nur Aisyah").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Nur Aisyah")
        _check(page, f"{shot}-4-learner", log)

        coa = next(a for a in list_awards(issuer.rt, learner="S2001", award_type="COA"))
        page.locator(f'a[href="/console/awards/{coa.id}"]').first.click()
        page.get_by_role("link", name="Revoke").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Revoke")
        page.get_by_label("Reason").fill("Assessment marked in error")
        _check(page, f"{shot}-5-confirm", log)
        page.get_by_role("button", name="Confirm: Revoke").click()
        expect(page.locator("#award-status")).to_have_text("revoked")
        assert "Assessment marked in error" in page.content()
        _check(page, f"{shot}-6-revoked", log)

    assert get_award(issuer.rt, coa.id).status == "revoked"
    with issuer.rt.reading() as session:
        report = verify_credential(
            coa.credential_json,
            at=issuer.clock.at,
            resolver=issuer.rt.resolver,
            fetcher=OwnStatusListFetcher(issuer.rt, session),
        )
    assert not report.verified
    assert "revoked" in str(report.to_dict()).lower()


def test_every_console_page_passes_axe_as_admin(issuer: ConsoleIssuer) -> None:
    coa = next(a for a in list_awards(issuer.rt, learner="S1001", award_type="COA"))
    pages = {
        "awards": "/console/awards",
        "award": f"/console/awards/{coa.id}",
        "suspend": f"/console/awards/{coa.id}/suspend",
        "learners": "/console/learners?q=S10",
        "progress": "/console/progress",
        "catalogue": "/console/catalogue",
        "micro-credential": "/console/catalogue/micro-credentials/DAF101",
        "programme": "/console/catalogue/programmes/PCDA",
        "issuers": "/console/issuers",
        "tokens": "/console/tokens",
        "staff": "/console/staff",
        "audit": "/console/audit",
        "sign-in": "/console/sign-in",
    }
    secret = issue_sign_in_link(issuer.rt, "admin@example.edu", actor="test")
    with live_server(issuer.app) as base, chromium() as browser:
        page = new_page(browser)
        page.set_viewport_size({"width": 768, "height": 1024})
        log = ConsoleLog(page)
        page.goto(f"{base}/console/sign-in/{secret}")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        page.get_by_label("Language").select_option("ms")
        page.get_by_role("button", name="Change").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Papan pemuka")
        _check(page, "console-admin-dashboard-ms", log)
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            _check(page, f"console-admin-{name}", log)
