"""Shared fixtures: an instance folder with issuer settings, and database URLs.

``db_url`` is parametrized: every test that asks for it runs on SQLite (a file in the test's
instance folder) and on a real PostgreSQL server (``tests/postgres.py``; marked ``postgres``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import postgres_server, reset_database

from issuer.services.runtime import Runtime, open_runtime
from issuer.settings import Settings

__all__ = ["db_url", "instance", "postgres_server", "rt", "settings"]

TEST_PASSPHRASE = "test-passphrase-not-secret"
TEST_BASE_URL = "https://issuer.test.example"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An empty instance folder."""
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, instance: Path) -> str:
    """A fresh, empty database: SQLite in the instance folder, or the worker's PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{instance}/sijil.db"
    url: str = request.getfixturevalue("postgres_server")
    reset_database(url)
    return url


@pytest.fixture
def settings(instance: Path, db_url: str) -> Settings:
    """Development settings for ``instance`` on ``db_url``."""
    return Settings.from_env(
        {
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": db_url,
            "SIJIL_BASE_URL": TEST_BASE_URL,
            "SIJIL_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            # Tests drive the apps hard; tests/test_security_ratelimit.py turns limits on.
            "SIJIL_RATE_LIMITS_ENABLED": "0",
        }
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """A migrated runtime on ``settings`` (closed after the test)."""
    runtime = open_runtime(settings)
    yield runtime
    runtime.close()
