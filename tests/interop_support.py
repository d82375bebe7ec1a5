"""Independent verifiers for the interoperability tests (``test_interop_*.py``).

``tests/interop/`` is a small Node project (exact versions pinned in its ``package-lock.json``)
whose ``verify.mjs`` checks credentials with software that is not sijil's: the Digital Bazaar
``@digitalbazaar/vc`` Data Integrity stack and the Digital Credentials Consortium's
``@digitalcredentials/verifier-core`` (the Learner Credential Wallet's and VerifierPlus's
library), plus Ajv over the official JSON Schemas. They run offline: they know only the
published contexts listed in ``tests/interop/published.json`` (bytes checked against the
publishers' sha256), did:key, and the documents a test hands in (DID documents, status list
credentials).

:func:`node_verifiers` installs the Node packages once (``npm ci``, under a file lock so xdist
workers share one install; skipped when the lock file has not changed). Without ``node`` and
``npm`` the tests skip locally and fail under CI (``CI`` set): CI must run them.

Also here: the official JSON Schemas (validated with ``jsonschema`` directly, not through
sijil's verifier) and the published-context check.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

__all__ = [
    "CLR_CREDENTIAL_SCHEMA",
    "INTEROP_DIR",
    "OB_ACHIEVEMENT_SCHEMA",
    "REPO",
    "NodeAnswer",
    "NodeVerifiers",
    "computed_once",
    "issuable_contexts",
    "named_contexts",
    "node_verifiers",
    "published",
    "schema_errors",
    "schema_for",
]

REPO = Path(__file__).resolve().parents[1]
INTEROP_DIR = REPO / "tests" / "interop"
OB_ACHIEVEMENT_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
CLR_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)
_STAMP = INTEROP_DIR / "node_modules" / ".sijil-lock-sha256"
_LOCK = INTEROP_DIR / ".npm-ci.lock"


@functools.cache
def published() -> dict[str, Any]:
    """``tests/interop/published.json``: published context URLs and schema ids -> file, sha256."""
    data: dict[str, Any] = json.loads((INTEROP_DIR / "published.json").read_text("utf-8"))
    return data


def issuable_contexts() -> frozenset[str]:
    """Context URLs a credential sijil issues may name (published, and meant for issuing)."""
    return frozenset(url for url, e in published()["contexts"].items() if e["issuable"])


def named_contexts(document: Any) -> set[str]:
    """Every context URL named anywhere in ``document`` (embedded credentials included)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    for entry in value if isinstance(value, list) else [value]:
                        if isinstance(entry, str):
                            found.add(entry)
                        else:
                            walk(entry)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


@functools.cache
def _validator(schema_id: str) -> Draft201909Validator:
    entry = published()["schemas"][schema_id]
    data = (REPO / "verifier" / "schemas" / entry["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise AssertionError(f"verifier/schemas/{entry['file']} is not the official schema")
    schema = json.loads(data)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_for(credential: Mapping[str, Any]) -> str | None:
    """The official schema id for ``credential``'s type (None: no OB/CLR schema applies)."""
    types = credential.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "ClrCredential" in types:
        return CLR_CREDENTIAL_SCHEMA
    if "OpenBadgeCredential" in types or "AchievementCredential" in types:
        return OB_ACHIEVEMENT_SCHEMA
    return None


def schema_errors(credential: Mapping[str, Any], schema_id: str) -> list[str]:
    """``pointer: message`` for each way ``credential`` breaks the unmodified official schema."""
    errors = _validator(schema_id).iter_errors(credential)
    return sorted(f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors)


def _lock_digest() -> str:
    return hashlib.sha256((INTEROP_DIR / "package-lock.json").read_bytes()).hexdigest()


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed for the independent verifiers (tests/interop)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must install them (.ci/run)")
        pytest.skip(reason)
    return node, npm


def _install(npm: str) -> None:
    """``npm ci`` into ``tests/interop/node_modules`` unless it already matches the lock file."""
    want = _lock_digest()
    with _LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _STAMP.exists() and _STAMP.read_text() == want:
                return
            proc = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
                cwd=INTEROP_DIR,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                env={**os.environ, "npm_config_update_notifier": "false"},
            )
            if proc.returncode != 0:
                pytest.fail(f"npm ci failed in tests/interop:\n{proc.stdout}\n{proc.stderr}")
            _STAMP.write_text(want)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class NodeAnswer:
    """``verify.mjs``'s answer: verdicts by credential name, and every URL either verifier
    asked for that is neither published nor handed in (so could not be had offline)."""

    results: dict[str, dict[str, Any]]
    refused: list[str]


@dataclass(frozen=True)
class NodeVerifiers:
    """The installed Node project; :meth:`verify` runs ``verify.mjs`` once over a batch."""

    node: str

    def verify(
        self,
        credentials: Sequence[tuple[str, Mapping[str, Any]]],
        documents: Mapping[str, Any],
        *,
        verifiers: Mapping[str, Sequence[str]] | None = None,
    ) -> NodeAnswer:
        """Each named credential's verdicts, ``results[name] = {"digitalbazaar": {...},
        "verifierCore": {...}, "ajv": {...}}`` (see ``verify.mjs``). ``documents`` maps URLs
        (did:web DID documents, status list credentials) to what they serve; ``verifiers``
        limits the verifiers run for a credential by name (default: all three)."""
        batch = [
            {
                "name": name,
                "credential": credential,
                **({"verifiers": list(verifiers[name])} if verifiers and name in verifiers else {}),
            }
            for name, credential in credentials
        ]
        proc = subprocess.run(
            [self.node, str(INTEROP_DIR / "verify.mjs")],
            input=json.dumps({"credentials": batch, "documents": dict(documents)}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=INTEROP_DIR,
        )
        if proc.returncode != 0:
            raise AssertionError(f"verify.mjs exited {proc.returncode}:\n{proc.stderr}")
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
        return NodeAnswer(
            results={entry["name"]: entry for entry in answer["results"]},
            refused=list(answer["refused"]),
        )


def computed_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """``compute()`` (a JSON object) once per test session: under xdist the first worker to
    get here computes and stores it in the session's shared temporary folder, the others read
    it, so the expensive issue-and-verify fixture does not run on every worker."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return compute()
    root = tmp_path_factory.getbasetemp().parent
    stored = root / f"{name}.json"
    with (root / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if stored.exists():
                value: dict[str, Any] = json.loads(stored.read_text("utf-8"))
                return value
            value = compute()
            stored.write_text(json.dumps(value), "utf-8")
            return value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@functools.cache
def _installed_node() -> str:
    node, npm = _tools()
    _install(npm)
    return node


def node_verifiers() -> NodeVerifiers:
    """The independent verifiers, installed on first use (skips/fails without node: see the
    module docstring)."""
    return NodeVerifiers(node=_installed_node())
