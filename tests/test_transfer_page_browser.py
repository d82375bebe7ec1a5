"""The credit-transfer page in a real Chromium at phone width: a receiving university picks a
policy, uploads an MMS, and sees the learner, each decision and the total; two learners'
credentials are refused; every state fits 390 px with no serious accessibility violations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
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
from transfer_page_support import ALI, ISSUER, SITI, mms_of, mqa_policy
from verifier_trust import trust_for

from verifier.settings import VerifierSettings
from verifier.web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("policies")
    (folder / "bscds.json").write_text(json.dumps(mqa_policy()), encoding="utf-8")
    (folder / "strict.json").write_text(
        json.dumps(mqa_policy(name="Strict: grade A only", minGrade="A")), encoding="utf-8"
    )
    settings = VerifierSettings(transfer_policies_dir=folder, operator="Universiti Penerima")
    app = create_app(settings, verifier=settings.build_verifier(trust=trust_for(ISSUER)))
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    found = new_page(browser, mobile=True)
    yield found
    found.context.close()


def assert_fits_the_phone(page: Page, name: str) -> None:
    screenshot(page, f"transfer-phone-{name}")
    assert_fits_phone(page, name)
    assert serious_violations(run_axe(page)) == []


def _write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_mms_is_evaluated_and_shows_learner_and_total(
    page: Page, base: str, tmp_path: Path
) -> None:
    console = ConsoleLog(page)
    page.goto(base + "/credit-transfer")
    assert_fits_the_phone(page, "empty")
    page.select_option("#policy", "bscds")
    page.set_input_files("#files", _write(tmp_path, "mms.json", mms_of(SITI)))
    page.locator("#transfer-form button[value=page]").click()
    page.locator("#transfer-result").wait_for()
    assert page.locator("#transfer-learner").inner_text().strip() == SITI.name
    total = page.locator("#transfer-total").inner_text()
    assert "9 credits" in total
    assert "9 kredit" in total
    assert page.locator("li.decision-accepted").count() == 3
    assert_fits_the_phone(page, "result")
    assert console.errors == []


def test_two_learners_are_refused(page: Page, base: str, tmp_path: Path) -> None:
    page.goto(base + "/credit-transfer")
    page.set_input_files(
        "#files",
        [
            _write(tmp_path, "siti.json", mms_of(SITI)),
            _write(tmp_path, "ali.json", mms_of(ALI, serial=20)),
        ],
    )
    page.locator("#transfer-form button[value=page]").click()
    refused = page.locator("section[data-refused]")
    refused.wait_for()
    assert refused.get_attribute("data-refused") == "LEARNER_MISMATCH"
    assert "Credentials of more than one learner" in refused.inner_text()
    assert page.locator("#transfer-total").count() == 0
    assert_fits_the_phone(page, "refused")


def test_pdf_download_from_the_page(page: Page, base: str, tmp_path: Path) -> None:
    page.goto(base + "/credit-transfer")
    page.set_input_files("#files", _write(tmp_path, "mms.json", mms_of(SITI)))
    with page.expect_download() as download_info:
        page.locator("#transfer-form button[value=pdf]").click()
    download = download_info.value
    assert download.suggested_filename == "credit-transfer.pdf"
    saved = tmp_path / "decision.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-1.4")
