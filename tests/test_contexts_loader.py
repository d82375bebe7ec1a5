"""contexts.loader: pinned files, sha256 manifest, offline document loader."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import contexts
from contexts import jsonld, loader
from contexts.errors import ContextNotPinnedError
from contexts.loader import ContextIntegrityError, ContextStore

PACKAGE = Path(str(resources.files("contexts")))
FILES = PACKAGE / "files"
MANIFEST = PACKAGE / "manifest.json"


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_contexts_package_resolves_inside_the_repo() -> None:
    # PyPI has an unrelated "contexts" package; ours must be the one imported.
    assert (
        Path(contexts.__file__).resolve().parent == Path(__file__).resolve().parents[1] / "contexts"
    )


def test_manifest_hashes_match_shipped_files() -> None:
    for url, entry in _manifest()["contexts"].items():
        raw = (FILES / entry["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], url
        for revision in entry.get("also_published_as", []):
            raw = (FILES / revision["file"]).read_bytes()
            assert hashlib.sha256(raw).hexdigest() == revision["sha256"], url


def test_every_shipped_file_is_in_the_manifest() -> None:
    named = set()
    for entry in _manifest()["contexts"].values():
        named.add(entry["file"])
        named.update(revision["file"] for revision in entry.get("also_published_as", []))
    assert {path.name for path in FILES.iterdir()} == named


def test_ob_303_url_accepts_both_revisions_and_serves_the_newer() -> None:
    entry = loader.default_store().get(loader.OB_V3P0)
    assert entry.accepted_sha256 == {
        "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
        "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    }
    assert entry.sha256.startswith("3d34f4d4")
    assert "jti" in loader.load_context(loader.OB_V3P0)["@context"]


def test_ob_303_newer_revision_only_adds_terms() -> None:
    # Every term of the 2025-04 revision is defined identically in the served 2026-07
    # one, which only adds jti and endorsementJwt: a document that passes safe mode with
    # the older revision expands (and so canonicalizes) identically with the newer.
    old = ContextStore.from_directory(FILES, MANIFEST).get(loader.OB_V3P0)
    older_file = next(
        r["file"] for r in _manifest()["contexts"][loader.OB_V3P0]["also_published_as"]
    )
    older = json.loads((FILES / older_file).read_text(encoding="utf-8"))
    newer = dict(old.document)
    assert set(newer["@context"]) - set(older["@context"]) == {"jti", "endorsementJwt"}
    for name, definition in older["@context"].items():
        assert newer["@context"][name] == definition, name


def test_sijil_context_is_pinned() -> None:
    assert contexts.SIJIL_CONTEXT_URL == "https://w3id.org/sijil/v1"
    doc = loader.load_context(contexts.SIJIL_CONTEXT_URL)
    terms = doc["@context"]
    assert terms["@protected"] is True
    assert terms["@version"] == 1.1
    assert "@vocab" not in terms
    integer = "http://www.w3.org/2001/XMLSchema#integer"
    assert terms["sltHours"] == {"@id": "https://w3id.org/sijil/vocab#sltHours", "@type": integer}
    assert terms["mqfLevel"]["@type"] == integer
    for term in ("deliveryMode", "microCredentialCategory", "awardType", "programmeCode"):
        assert terms[term]["@id"] == f"https://w3id.org/sijil/vocab#{term}"


def test_pinned_urls_include_every_named_constant() -> None:
    urls = loader.pinned_urls()
    for constant in (
        contexts.VC_V2,
        contexts.VC_V1,
        contexts.OB_V3P0,
        contexts.CLR_V2P0,
        contexts.DATA_INTEGRITY_V1,
        contexts.DATA_INTEGRITY_V2,
        contexts.MULTIKEY_V1,
        contexts.CID_V1,
        contexts.BSL_V1,
        contexts.SIJIL_CONTEXT_URL,
    ):
        assert constant in urls


def test_load_context_returns_a_fresh_copy() -> None:
    first = loader.load_context(contexts.VC_V2)
    first["@context"]["tampered"] = "x"
    assert "tampered" not in loader.load_context(contexts.VC_V2)["@context"]


def test_document_loader_marks_pinned_contexts_static() -> None:
    remote = loader.document_loader(contexts.VC_V2)
    assert remote["tag"] == "static"
    assert remote["documentUrl"] == contexts.VC_V2
    assert remote["contextUrl"] is None
    assert "@context" in remote["document"]


def test_unpinned_context() -> None:
    with pytest.raises(ContextNotPinnedError) as caught:
        loader.load_context("https://contexts.example/v1")
    assert caught.value.code == "CONTEXT_NOT_PINNED"
    with pytest.raises(ContextNotPinnedError):
        loader.document_loader("https://www.w3.org/ns/credentials/v3")


def test_unpinned_context_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise AssertionError(f"network connection attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    doc = {
        "@context": [contexts.VC_V2, "https://contexts.example/unknown.jsonld"],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "credentialSubject": {"id": "https://subject.example"},
    }
    with pytest.raises(ContextNotPinnedError):
        jsonld.canonize(doc)
    assert attempts == []


def test_tampered_context_file(tmp_path: Path) -> None:
    files = tmp_path / "files"
    shutil.copytree(FILES, files)
    target = files / "credentials-v2.jsonld"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b'"VerifiableCredential"', b'"Verifiable"', 1))
    with pytest.raises(ContextIntegrityError) as caught:
        ContextStore.from_directory(files, MANIFEST)
    assert caught.value.code == "CONTEXT_INTEGRITY_ERROR"


def test_tampered_older_revision_file(tmp_path: Path) -> None:
    files = tmp_path / "files"
    shutil.copytree(FILES, files)
    target = files / "ob-v3p0-context-3.0.3.spec-repo-2025-04.json"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b" ")
    with pytest.raises(ContextIntegrityError):
        ContextStore.from_directory(files, MANIFEST)


def test_missing_context_file(tmp_path: Path) -> None:
    files = tmp_path / "files"
    shutil.copytree(FILES, files)
    (files / "multikey-v1.jsonld").unlink()
    with pytest.raises(ContextIntegrityError):
        ContextStore.from_directory(files, MANIFEST)


def test_manifest_path_traversal_rejected(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps({"contexts": {"https://x.example/": {"file": "../etc/passwd", "sha256": "0"}}}),
        encoding="utf-8",
    )
    with pytest.raises(ContextIntegrityError):
        ContextStore.from_directory(FILES, manifest)


def test_register_document_serves_prefix() -> None:
    prefix = "urn:sijil-test-loader:"
    served = {"@context": {"name": "https://schema.org/name"}}

    def resolver(url: str) -> dict[str, Any] | None:
        return served if url == prefix + "known" else None

    loader.register_document(prefix, resolver)
    try:
        remote = loader.document_loader(prefix + "known")
        assert remote["document"] == served
        assert "tag" not in remote
        with pytest.raises(ContextNotPinnedError):
            loader.document_loader(prefix + "unknown")
    finally:
        loader.unregister_document(prefix)
    with pytest.raises(ContextNotPinnedError):
        loader.document_loader(prefix + "known")
