"""Shared helpers for browser tests: system Chromium through Playwright, a live WSGI server,
axe-core accessibility checks, console/CSP watching and screenshots.

Import from a test module (pytest puts ``tests/`` on ``sys.path``)::

    from browser import chromium, live_server, new_page, run_axe, screenshot

* :func:`chromium` launches the distribution's Chromium (``/usr/bin/chromium``, or
  ``SIJIL_CHROMIUM``) headless; Playwright's own browser download is never used. When Chromium
  or the ``playwright`` package is missing the test is skipped with the reason, except in CI
  (``CI=true``), where it fails instead, so CI cannot pass by skipping.
* :func:`live_server` serves a WSGI app on ``127.0.0.1`` on a free port, in a thread.
* :func:`axe_source` installs the pinned ``axe-core`` with npm into ``tests/.cache/npm`` (git
  ignores the folder through its own ``.gitignore``) once, under a file lock; when npm is
  missing or the install fails, the calling test is skipped with the reason.
* :func:`screenshot` writes PNGs to ``test-artifacts/screenshots/`` for people to look at.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

import pytest
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from playwright.sync_api import Browser, Page

__all__ = [
    "AXE_VERSION",
    "CHROMIUM_ARGS",
    "PHONE_WIDTH",
    "SCREENSHOTS",
    "ConsoleLog",
    "another_chromium",
    "assert_fits_phone",
    "axe_source",
    "chromium",
    "chromium_path",
    "in_ci",
    "live_server",
    "new_page",
    "run_axe",
    "screenshot",
    "serious_violations",
    "unavailable",
]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CACHE = Path(__file__).resolve().parent / ".cache"
AXE_VERSION = "4.10.3"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    """Whether we run in CI (``CI=true``), where a missing browser is a failure."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for a missing tool locally; fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def chromium_path() -> str:
    """The system Chromium executable, or skip/fail (see :func:`unavailable`)."""
    configured = os.environ.get("SIJIL_CHROMIUM")
    candidates = [configured] if configured else ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    unavailable("system Chromium not installed (apt-get install chromium, or set SIJIL_CHROMIUM)")


@contextmanager
def chromium(*, extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    """A headless system Chromium, closed on exit; ``extra_args`` add command-line flags
    (e.g. a fake camera: ``--use-fake-device-for-media-stream``)."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def another_chromium(browser: Browser, *, extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    """A second Chromium from the Playwright instance that runs ``browser``, with more flags.

    (Playwright's sync API allows one instance per thread, so a test that needs different
    flags, such as a fake camera, launches its browser from the running one.)
    """
    other = browser.browser_type.launch(
        executable_path=chromium_path(), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )
    try:
        yield other
    finally:
        other.close()


#: The phone the mobile pages are checked on (CSS pixels).
PHONE_WIDTH: Final = 390


def new_page(browser: Browser, *, mobile: bool = False) -> Page:
    """A page in a fresh context; ``mobile`` gives a 390x844 touch viewport (a phone)."""
    if mobile:
        context = browser.new_context(
            viewport={"width": PHONE_WIDTH, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
    else:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
    return context.new_page()


def assert_fits_phone(page: Page, where: str = "") -> None:
    """The page does not scroll sideways on the phone: the document is no wider than
    :data:`PHONE_WIDTH`. ``where`` names the page in the failure (default: its URL)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{where or page.url} is {width}px wide on a {PHONE_WIDTH}px phone"


class ConsoleLog:
    """Collects a page's console errors and failed requests (CSP refusals show up here)."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(str(message.text))

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


@contextmanager
def live_server(app: WSGIApplication) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free loopback port; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def axe_source() -> str:
    """The source of the pinned axe-core, installed with npm on first use (else skip)."""
    target = CACHE / "npm" / "node_modules" / "axe-core" / "axe.min.js"
    if target.is_file():
        return target.read_text(encoding="utf-8")
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the axe-core accessibility check cannot run")
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    with (CACHE / "npm.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.is_file():
            proc = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(CACHE / "npm"),
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--ignore-scripts",
                    f"axe-core@{AXE_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if proc.returncode != 0 or not target.is_file():
                pytest.skip(f"npm could not install axe-core@{AXE_VERSION}: {proc.stderr[-500:]}")
    return target.read_text(encoding="utf-8")


def run_axe(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.x A/AA rules) in ``page``; returns its violations.

    The script is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the page under test keeps its strict policy.
    """
    page.evaluate(axe_source())
    violations: list[dict[str, Any]] = page.evaluate(
        """() => axe.run(document, {
              runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                               'best-practice']},
              resultTypes: ['violations'],
           }).then(r => r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"""
    )
    return violations


def serious_violations(violations: list[dict[str, Any]]) -> list[str]:
    """The serious and critical violations, one readable line each (empty when none)."""
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]
