"""The shared browser helpers: a missing browser skips locally but fails in CI."""

from __future__ import annotations

import pytest
from browser import CHROMIUM_ARGS, chromium_path, in_ci, serious_violations, unavailable


def test_missing_tool_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception):
        unavailable("no browser here")


def test_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unavailable("no browser here")


def test_configured_chromium_that_does_not_exist_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SIJIL_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match="Chromium"):
        chromium_path()


def test_chromium_flags_keep_the_browser_offline_and_headless() -> None:
    for flag in ("--headless", "--no-sandbox", "--disable-background-networking", "--disable-sync"):
        assert flag in CHROMIUM_ARGS


def test_serious_violations_keeps_only_serious_and_critical() -> None:
    violations = [
        {"id": "image-alt", "impact": "critical", "help": "Images need alt", "nodes": ["img"]},
        {"id": "region", "impact": "moderate", "help": "Use landmarks", "nodes": ["p"]},
        {"id": "color-contrast", "impact": "serious", "help": "Contrast", "nodes": ["a", "b"]},
    ]
    assert serious_violations(violations) == [
        "critical: image-alt (Images need alt) at img",
        "serious: color-contrast (Contrast) at a, b",
    ]
