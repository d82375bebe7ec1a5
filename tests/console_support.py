"""Shared set-up for the staff console tests (``test_console_*.py``): a real runtime with the
demo seeded, an injectable clock, the issuer app, one staff member per role, and sign-in
through a real one-time link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from issuer.console.roles import ROLES
from issuer.console.staff import add_staff, issue_sign_in_link
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.services.runtime import Runtime
from issuer.settings import Settings
from issuer.web import create_app

__all__ = [
    "BASE_URL",
    "Clock",
    "ConsoleIssuer",
    "console_issuer",
    "csrf_of",
    "email_of",
    "sign_in",
]

BASE_URL = "https://issuer.test.example"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Clock:
    """A settable clock for the runtime (sessions and links expire by it)."""

    at: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@dataclass
class ConsoleIssuer:
    """The issuer app, its runtime and clock."""

    rt: Runtime
    app: Flask
    clock: Clock


def email_of(role: str) -> str:
    """The test staff member holding ``role``."""
    return f"{role}@example.edu"


def settings_for(instance: Path, base_url: str = BASE_URL, database_url: str = "") -> Settings:
    """Development settings on ``database_url`` (default: a SQLite file in ``instance``)."""
    return Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": database_url,
            "SIJIL_BASE_URL": base_url,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            "SIJIL_RATE_LIMITS_ENABLED": "0",
            "SIJIL_NOTIFY_LEARNERS": "0",
        }
    )


@contextmanager
def console_issuer(
    instance: Path, *, base_url: str = BASE_URL, database_url: str = ""
) -> Iterator[ConsoleIssuer]:
    """Demo data, status lists on, a staff member per role; closed after."""
    clock = Clock()
    settings = settings_for(instance, base_url, database_url)
    rt = open_runtime(settings, clock=clock, status_lists=True)
    try:
        seed_demo(rt)
        for role in ROLES:
            add_staff(rt, email_of(role), role, actor="test")
        yield ConsoleIssuer(rt=rt, app=create_app(runtime=rt), clock=clock)
    finally:
        rt.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    found = _CSRF.search(html)
    if found is None:
        raise LookupError("no CSRF token in the page")
    return found.group(1)


def sign_in(issuer: ConsoleIssuer, role: str) -> FlaskClient:
    """A client signed in as the staff member holding ``role`` (through a one-time link)."""
    client = issuer.app.test_client()
    secret = issue_sign_in_link(issuer.rt, email_of(role), actor="test")
    page = client.get(f"/console/sign-in/{secret}")
    answer = client.post(f"/console/sign-in/{secret}", data={"csrf": csrf_of(page.text)})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return client
