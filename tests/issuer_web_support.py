"""Shared set-up for the issuer web tests (``test_issuer_web_*.py``).

A real runtime on a SQLite file in a temporary instance folder, the Flask app over it, tokens of
each scope, and the seeded demo. Nothing is mocked: requests go through the real app, the real
services and the real database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from issuer.services.bootstrap import open_runtime
from issuer.services.runtime import Runtime
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app

__all__ = ["BASE_URL", "WebIssuer", "auth", "web_issuer"]

BASE_URL = "https://issuer.test.example"


@dataclass
class WebIssuer:
    """An issuer app with a token per scope set."""

    rt: Runtime
    app: Flask
    tokens: dict[str, str]

    def client(self) -> FlaskClient:
        """A fresh test client."""
        return self.app.test_client()


def auth(token: str) -> dict[str, str]:
    """The ``Authorization`` header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def web_issuer(
    instance: Path,
    *,
    base_url: str = BASE_URL,
    demo: bool = False,
    database_url: str = "",
    status_lists: bool = False,
) -> Iterator[WebIssuer]:
    """A migrated runtime (default issuer; the demo when asked) and its app; closed after.

    ``database_url`` defaults to a SQLite file in ``instance``.
    """
    settings = Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": database_url,
            "SIJIL_BASE_URL": base_url,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            # Tests drive the apps hard; tests/test_security_ratelimit.py turns limits on.
            "SIJIL_RATE_LIMITS_ENABLED": "0",
        }
    )
    rt = open_runtime(settings, status_lists=status_lists)
    try:
        if demo:
            from issuer.services.demo import seed_demo

            seed_demo(rt)
        else:
            from issuer.services.issuers import ensure_default_issuer

            ensure_default_issuer(rt, actor="test")
        tokens = {
            name: create_token(rt, scopes, label=name, actor="test")[1]
            for name, scopes in {
                "admin": ["admin"],
                "issue": ["issue"],
                "read": ["read"],
                "issue+read": ["issue", "read"],
                "metrics": ["metrics"],
            }.items()
        }
        yield WebIssuer(rt=rt, app=create_app(runtime=rt), tokens=tokens)
    finally:
        rt.close()
