"""Shared set-up for ``test_conformance_issue_*.py``: an issuer with status lists on, its app,
a clock the test moves, a fetcher that reads status lists through the app's public route, and
the official 1EdTech JSON Schemas (the package's pinned byte copies, checked against their
manifest so a modified copy fails the tests instead of passing them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft201909Validator
from shared_dir import SCHEMAS

from issuer.services.bootstrap import open_runtime
from issuer.services.issuance import own_issuers
from issuer.services.issuers import ensure_default_issuer
from issuer.services.runtime import Runtime
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchError, FetchResponse
from verifier.report import VerificationReport, verify_credential

__all__ = [
    "BASE_URL",
    "PUBLISHED_CONTEXTS",
    "AppFetcher",
    "Clock",
    "Issuer",
    "contexts_named",
    "issuer_app",
    "official_validator",
    "schema_errors",
    "verify",
]

BASE_URL: Final = "https://issuer.test.example"
#: Every context an issued credential may name: published by W3C or 1EdTech.
PUBLISHED_CONTEXTS: Final = frozenset(
    {
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/status/v1",
        "https://w3id.org/security/data-integrity/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    }
)
_OB: Final = "ob-v3p0/ob_v3p0_achievementcredential_schema.json"
_CLR: Final = "clr-v2p0/clr_v2p0_clrcredential_schema.json"


@dataclass
class Clock:
    """The runtime's clock: real time plus ``offset`` (a clock running ahead)."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class AppFetcher:
    """A Fetcher reading ``{BASE}/status/<id>`` through the app (the public serving route)."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The app's answer for ``url`` (ours only)."""
        if not url.startswith(BASE_URL + "/"):
            raise FetchError(f"{url} is not served by the test issuer", url=url)
        answer = self._client.get(url[len(BASE_URL) :], headers={"Accept": accept})
        if answer.status_code != 200:
            raise FetchError(f"{url} answered {answer.status_code}", url=url)
        return FetchResponse(
            url=url,
            status=200,
            headers={"content-type": answer.content_type},
            body=answer.get_data(),
        )

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The parsed JSON at ``url``."""
        return json.loads(self.get_bytes(url, accept=accept).body)


@dataclass
class Issuer:
    """A runtime (status lists on, injected clock), its app and an ``issue`` token."""

    rt: Runtime
    app: Flask
    clock: Clock
    token: str

    def client(self) -> FlaskClient:
        """A fresh test client."""
        return self.app.test_client()

    def auth(self) -> dict[str, str]:
        """The ``Authorization`` header of the issue token."""
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def issuer_app(instance: Path) -> Iterator[Issuer]:
    """A migrated SQLite issuer in ``instance`` with a default issuer; closed after."""
    settings = Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": f"sqlite:///{instance}/sijil.db",
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            "SIJIL_RATE_LIMITS_ENABLED": "0",
        }
    )
    clock = Clock()
    rt = open_runtime(settings, clock=clock, status_lists=True)
    try:
        ensure_default_issuer(rt, actor="test")
        _, token = create_token(rt, ["issue"], label="issue", actor="test")
        yield Issuer(rt=rt, app=create_app(runtime=rt), clock=clock, token=token)
    finally:
        rt.close()


def verify(issuer: Issuer, credential: Mapping[str, Any]) -> VerificationReport:
    """Verify as a relying party at real time: pinned DID documents, lists fetched through the
    app's public route, this instance's issuers recognised."""
    return verify_credential(
        dict(credential),
        at=datetime.now(UTC),
        resolver=issuer.rt.resolver,
        fetcher=AppFetcher(issuer.client()),
        trust=own_issuers(issuer.rt),
    )


def official_validator(name: str) -> Draft201909Validator:
    """The official schema ``ob`` (AchievementCredential) or ``clr`` (ClrCredential), after
    checking its bytes against the pinned manifest (unmodified 1EdTech files)."""
    relative = _OB if name == "ob" else _CLR
    data = (SCHEMAS / relative).read_bytes()
    manifest = json.loads((SCHEMAS / "manifest.json").read_text(encoding="utf-8"))
    if hashlib.sha256(data).hexdigest() != manifest["schemas"][relative]["sha256"]:
        raise AssertionError(f"{relative} differs from the published schema")
    schema = json.loads(data)
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema)


def schema_errors(credential: Mapping[str, Any]) -> list[str]:
    """The official schema's error messages for an OB or CLR credential (empty: valid)."""
    types = credential.get("type", [])
    validator = official_validator("clr" if "ClrCredential" in types else "ob")
    return [error.message for error in validator.iter_errors(dict(credential))]


def contexts_named(node: Any) -> set[str]:
    """Every context URL anywhere in ``node`` (embedded credentials included)."""
    found: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "@context":
                items = value if isinstance(value, list) else [value]
                found.update(item for item in items if isinstance(item, str))
                found.update("<inline context>" for item in items if isinstance(item, Mapping))
            else:
                found |= contexts_named(value)
    elif isinstance(node, list):
        for item in node:
            found |= contexts_named(item)
    return found
