"""Shared fixtures: an instance folder with issuer settings, database URLs, and the test run's
environment.

``db_url`` is parametrized: every test that asks for it runs on SQLite (a file in the test's
instance folder) and on a real PostgreSQL server (``tests/postgres.py``; marked ``postgres``).

The issuer fails closed: outside ``SIJIL_ENV=development`` it refuses to start without its
secrets. The suite says development explicitly, once, here (:func:`development_environment`
for the process environment, which CLI runs and subprocesses inherit; :data:`DEV_ENV` for the
mappings tests hand to ``Settings.from_env``). Tests of production behaviour set
``SIJIL_ENV=production`` themselves.

Property tests are deterministic in the gate: the ``ci`` Hypothesis profile (the default)
derandomizes generation and keeps no example database, so a run passes or fails the same way
every time. ``SIJIL_HYPOTHESIS_PROFILE=random`` explores with fresh random examples (and
remembers failures in ``.hypothesis/``); the long fuzz run (``bench/fuzz_long.py``) stays random.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import hypothesis
import pytest
from postgres import postgres_server, reset_database

from issuer.services.bootstrap import open_runtime
from issuer.services.runtime import Runtime
from issuer.settings import Settings

__all__ = [
    "DEV_ENV",
    "db_url",
    "development_environment",
    "instance",
    "postgres_server",
    "rt",
    "settings",
]

hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis.settings.register_profile("random", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("SIJIL_HYPOTHESIS_PROFILE", "ci"))

#: What every test-built issuer environment starts from: development, said explicitly.
DEV_ENV: Final = {"SIJIL_ENV": "development"}

TEST_PASSPHRASE = "test-passphrase-not-secret"
TEST_BASE_URL = "https://issuer.test.example"


@pytest.fixture(autouse=True)
def development_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with ``SIJIL_ENV=development`` unless it sets production itself."""
    monkeypatch.setenv("SIJIL_ENV", "development")


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
            **DEV_ENV,
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
