"""What the independent verifiers are given is the published material, unmodified.

``tests/interop/published.json`` lists the published contexts and the official 1EdTech JSON
Schemas with the sha256 of their publishers' bytes; the copies the repository pins
(``contexts/files``, ``verifier/schemas``) must be exactly those bytes, and, when the official
copies are laid beside the checkout (``../shared``), equal to them. The Node packages are pinned
to exact versions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from interop_support import INTEROP_DIR, REPO, issuable_contexts, published
from shared_dir import UPSTREAM as SHARED

SIJIL_CONTEXT = "https://w3id.org/sijil/v1"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pinned_context_files_are_the_published_bytes() -> None:
    wrong = {
        url: entry["file"]
        for url, entry in published()["contexts"].items()
        if _sha256(REPO / "contexts" / "files" / entry["file"]) != entry["sha256"]
    }
    assert wrong == {}


def test_pinned_schemas_are_the_official_bytes() -> None:
    wrong = {
        url: entry["file"]
        for url, entry in published()["schemas"].items()
        if _sha256(REPO / "verifier" / "schemas" / entry["file"]) != entry["sha256"]
    }
    assert wrong == {}


def test_sijil_context_is_not_among_the_published() -> None:
    assert SIJIL_CONTEXT not in published()["contexts"]
    assert SIJIL_CONTEXT not in issuable_contexts()


def test_issuable_contexts_are_the_vc_ob_clr_family() -> None:
    assert {
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    } <= issuable_contexts()
    assert "https://www.w3.org/ns/credentials/undefined-terms/v2" not in issuable_contexts()


@pytest.mark.skipif(not (SHARED / "contexts").is_dir(), reason="official copies not present")
def test_published_contexts_equal_the_official_copies() -> None:
    official = json.loads((SHARED / "contexts" / "manifest.json").read_text("utf-8"))["contexts"]
    ours = {url: (e["file"], e["sha256"]) for url, e in published()["contexts"].items()}
    assert ours == {url: (e["file"], e["sha256"]) for url, e in official.items()}
    for file, digest in ours.values():
        assert _sha256(SHARED / "contexts" / file) == digest


@pytest.mark.skipif(not (SHARED / "schemas").is_dir(), reason="official copies not present")
def test_pinned_schemas_are_byte_identical_to_the_official_copies() -> None:
    official = sorted((SHARED / "schemas").glob("*-v*/*.json"))
    assert official
    differing = [
        f"{p.parent.name}/{p.name}"
        for p in official
        if (REPO / "verifier" / "schemas" / p.parent.name / p.name).read_bytes() != p.read_bytes()
    ]
    assert differing == []
    assert {e["file"] for e in published()["schemas"].values()} == {
        f"{p.parent.name}/{p.name}" for p in official
    }


def test_node_packages_are_pinned_to_exact_versions() -> None:
    package = json.loads((INTEROP_DIR / "package.json").read_text("utf-8"))
    lock = json.loads((INTEROP_DIR / "package-lock.json").read_text("utf-8"))
    ranged = {n: v for n, v in package["dependencies"].items() if not v[:1].isdigit()}
    assert ranged == {}
    for name, version in package["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert {
        "@digitalbazaar/vc",
        "@digitalbazaar/data-integrity",
        "@digitalbazaar/eddsa-rdfc-2022-cryptosuite",
        "@digitalcredentials/verifier-core",
    } <= set(package["dependencies"])
