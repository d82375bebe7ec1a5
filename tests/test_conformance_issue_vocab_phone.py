"""The vocabulary pages award alignments link to, on a phone (390 px, real Chromium): each
code's anchor is there, nothing scrolls sideways, no serious accessibility violation.
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
from conformance_issue_support import issuer_app

from issuer.credentials.vocabulary import VOCABULARIES

pytestmark = pytest.mark.browser


@pytest.fixture
def base(instance: Path) -> Iterator[str]:
    with issuer_app(instance) as issuer, live_server(issuer.app) as url:
        yield url


def test_vocabulary_pages_fit_a_phone_and_name_every_code(base: str) -> None:
    with chromium() as browser:
        page = new_page(browser, mobile=True)
        try:
            for slug, vocabulary in VOCABULARIES.items():
                page.goto(f"{base}/vocab/{slug}")
                assert_fits_phone(page, slug)
                assert page.locator("h1").inner_text() == vocabulary.title
                for term in vocabulary.terms:
                    assert page.locator(f"[id='{term.code}']").count() == 1
                assert serious_violations(run_axe(page)) == []
            screenshot(page, "vocab-phone")
        finally:
            page.context.close()
