"""Pinned JSON-LD contexts and the offline pyld document loader.

Why: a verifier that fetches ``@context`` URLs from the network lets whoever controls
the network (or the context's host) change what a signed credential *means*. Every
context sijil processes is therefore a byte copy shipped in ``contexts/files/``, listed
in ``contexts/manifest.json`` with its sha256, and checked against that hash the first
time the store is used (a tampered file raises ``CONTEXT_INTEGRITY_ERROR`` before any
document is processed). Any other URL raises ``CONTEXT_NOT_PINNED``; nothing here ever
opens a socket.

Contract with pyld 3.3.0: :func:`document_loader` returns pinned contexts with
``"tag": "static"``. pyld's ``ContextResolver`` keeps ``static`` documents in its
shared cache, so the (expensive) processed form of each pinned context is computed
once per process instead of once per document (without the tag, pyld re-resolves
every context URL on every call, which halves canonicalization speed).

Revisions: the OB 3.0.3 URL is published in two revisions (the 2025-04 spec-repo
file and the 2026-07 file, which adds only the terms ``jti`` and ``endorsementJwt``).
Both hashes are accepted in the manifest; the newer bytes are served. A credential
that passed safe mode against the older revision cannot use either new term (it
would have been an undefined term), and adding terms does not change the expansion
of any other term, so its N-Quads are identical under the newer revision: serving
the newer file verifies credentials signed against either.

``https://www.w3.org/ns/credentials/undefined-terms/v2`` (which has ``@vocab``) is
pinned only so the specs' test vectors can be processed; it defeats safe mode and
must never appear in a credential sijil issues.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from contexts.errors import ContextNotPinnedError, SijilError

__all__ = [
    "BSL_V1",
    "CID_V1",
    "CLR_V2P0",
    "DATA_INTEGRITY_V1",
    "DATA_INTEGRITY_V2",
    "MULTIKEY_V1",
    "OB_V3P0",
    "SIJIL_CONTEXT_URL",
    "VC_V1",
    "VC_V2",
    "ContextIntegrityError",
    "ContextStore",
    "DocumentResolver",
    "PinnedContext",
    "default_store",
    "document_loader",
    "load_context",
    "pinned_urls",
    "register_document",
    "unregister_document",
]

SIJIL_CONTEXT_URL = "https://w3id.org/sijil/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2P0 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
CID_V1 = "https://www.w3.org/ns/cid/v1"
BSL_V1 = "https://www.w3.org/ns/credentials/status/v1"

DocumentResolver = Callable[[str], "dict[str, Any] | None"]
"""Resolves a URL under a registered prefix to a JSON-LD document, or None if unknown."""


class ContextIntegrityError(SijilError):
    """A pinned context file is missing, unparseable or does not match its manifest sha256."""

    code = "CONTEXT_INTEGRITY_ERROR"
    title = "Pinned JSON-LD context failed its integrity check"
    http_status = 500


@dataclass(frozen=True)
class PinnedContext:
    """One pinned URL: the served file, its sha256, and every accepted revision's sha256."""

    url: str
    file: str
    sha256: str
    accepted_sha256: frozenset[str]
    document: Mapping[str, Any]


class ContextStore:
    """Pinned contexts, each verified against its manifest sha256 when the store is built.

    Pure once built: lookups do no I/O. Build it with :meth:`from_directory`.
    """

    def __init__(self, contexts: Mapping[str, PinnedContext]) -> None:
        self._contexts = dict(contexts)
        self._urls = frozenset(self._contexts)

    @classmethod
    def from_directory(cls, files_dir: Path, manifest_path: Path) -> ContextStore:
        """Read ``manifest_path`` and every file it names under ``files_dir``.

        Every file (also each ``also_published_as`` revision) must hash to its manifest
        sha256 and parse as a JSON object. Raises ``CONTEXT_INTEGRITY_ERROR`` otherwise.
        """
        try:
            manifest = json.loads(manifest_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ContextIntegrityError(f"cannot read context manifest {manifest_path}") from exc
        entries = manifest.get("contexts") if isinstance(manifest, dict) else None
        if not isinstance(entries, dict):
            raise ContextIntegrityError("context manifest has no 'contexts' object")
        contexts: dict[str, PinnedContext] = {}
        for url, entry in entries.items():
            raw = _read_checked(files_dir, url, entry)
            accepted = {entry["sha256"]}
            for revision in entry.get("also_published_as", []):
                _read_checked(files_dir, url, revision)
                accepted.add(revision["sha256"])
            try:
                document = json.loads(raw)
            except ValueError as exc:
                raise ContextIntegrityError(f"pinned context for {url} is not JSON") from exc
            if not isinstance(document, dict):
                raise ContextIntegrityError(f"pinned context for {url} is not a JSON object")
            contexts[url] = PinnedContext(
                url=url,
                file=entry["file"],
                sha256=entry["sha256"],
                accepted_sha256=frozenset(accepted),
                document=document,
            )
        return cls(contexts)

    def urls(self) -> frozenset[str]:
        """Every pinned context URL."""
        return self._urls

    def get(self, url: str) -> PinnedContext:
        """The pinned entry for ``url``; ``CONTEXT_NOT_PINNED`` if there is none."""
        try:
            return self._contexts[url]
        except KeyError:
            raise ContextNotPinnedError(
                f"JSON-LD context {url!r} is not pinned; sijil never fetches contexts",
                url=url,
            ) from None

    def load(self, url: str) -> dict[str, Any]:
        """A fresh deep copy of the parsed context for ``url`` (callers may mutate it)."""
        return copy.deepcopy(dict(self.get(url).document))


def _read_checked(files_dir: Path, url: str, entry: Any) -> bytes:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise ContextIntegrityError(f"manifest entry for {url} has no file")
    name: str = entry["file"]
    if "/" in name or "\\" in name or name.startswith("."):
        raise ContextIntegrityError(f"manifest entry for {url} names an unsafe path {name!r}")
    try:
        raw = (files_dir / name).read_bytes()
    except OSError as exc:
        raise ContextIntegrityError(f"pinned context file {name} for {url} is missing") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry.get("sha256"):
        raise ContextIntegrityError(
            f"pinned context file {name} for {url} has sha256 {digest}, "
            f"manifest says {entry.get('sha256')}",
            url=url,
            file=name,
        )
    return raw


_store_lock = threading.Lock()
_store: ContextStore | None = None
_registered: dict[str, DocumentResolver] = {}


def default_store() -> ContextStore:
    """The store of the contexts shipped in this package (built and checked on first use)."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                package = resources.files("contexts")
                _store = ContextStore.from_directory(
                    Path(str(package / "files")), Path(str(package / "manifest.json"))
                )
    return _store


def pinned_urls() -> frozenset[str]:
    """Every context URL the loader serves from the package."""
    return default_store().urls()


def load_context(url: str) -> dict[str, Any]:
    """The parsed pinned context document for ``url`` (a fresh copy).

    Raises ``CONTEXT_NOT_PINNED`` for any URL not in the manifest and
    ``CONTEXT_INTEGRITY_ERROR`` if the shipped files fail their hash check.
    """
    return default_store().load(url)


def register_document(url_prefix: str, resolver: DocumentResolver) -> None:
    """Serve URLs starting with ``url_prefix`` (e.g. ``"did:key:"``) from ``resolver``.

    ``keys`` registers did:key here so pyld can dereference did:key documents offline.
    Registered documents are not marked static (pyld does not cache them across calls).
    A resolver returning None makes the URL fail with ``CONTEXT_NOT_PINNED``.
    Pinned context URLs always win over registered prefixes.
    """
    _registered[url_prefix] = resolver


def unregister_document(url_prefix: str) -> None:
    """Stop serving ``url_prefix`` (no error if it was not registered)."""
    _registered.pop(url_prefix, None)


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: pinned contexts (tagged static) and registered documents.

    Returns ``{"contextUrl": None, "documentUrl": url, "document": ..., "tag": ...}``.
    Raises ``CONTEXT_NOT_PINNED`` for anything else; never touches the network.
    """
    store = default_store()
    if url in store.urls():
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": store.load(url),
            "tag": "static",
        }
    for prefix, resolver in list(_registered.items()):
        if url.startswith(prefix):
            document = resolver(url)
            if document is not None:
                return {"contextUrl": None, "documentUrl": url, "document": document}
    raise ContextNotPinnedError(
        f"JSON-LD document {url!r} is not pinned; sijil never fetches contexts", url=url
    )
