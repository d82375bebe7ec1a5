"""The repository's copies of the official vectors, contexts and schemas match upstream.

The tests read only the copies inside the repository (``tests/shared_dir.py``). When an upstream
checkout of the same material is laid beside the repository (``../shared/vectors``,
``../shared/contexts``, ``../shared/schemas``), this test proves the copies have not drifted from
it; on a fresh clone with nothing beside it, it skips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_dir import CONTEXTS, REPO, SCHEMAS, UPSTREAM, VECTORS

pytestmark = pytest.mark.skipif(
    not UPSTREAM.is_dir(), reason="no upstream checkout beside the repository"
)

#: Files upstream that are documentation, not data, and files we keep on purpose elsewhere.
_NOT_DATA = {"README.md"}


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in _NOT_DATA
    }


def test_vectors_are_byte_copies_of_upstream() -> None:
    ours, theirs = _files(VECTORS), _files(UPSTREAM / "vectors")
    assert sorted(ours) == sorted(theirs)
    changed = [name for name in theirs if ours[name] != theirs[name]]
    assert changed == []


def test_contexts_are_byte_copies_of_upstream() -> None:
    upstream = UPSTREAM / "contexts"
    manifest: dict[str, Any] = json.loads((upstream / "manifest.json").read_text("utf-8"))
    ours: dict[str, Any] = json.loads((REPO / "contexts" / "manifest.json").read_text("utf-8"))
    for url, entry in manifest["contexts"].items():
        assert ours["contexts"][url] == entry, url
    theirs = {n: b for n, b in _files(upstream).items() if n != "manifest.json"}
    changed = [name for name, raw in theirs.items() if (CONTEXTS / name).read_bytes() != raw]
    assert changed == []


def test_schemas_are_byte_copies_of_upstream() -> None:
    # ``alt/`` upstream is a reformatted, informational variant: not pinned, not used.
    theirs = {
        name: raw
        for name, raw in _files(UPSTREAM / "schemas").items()
        if name.split("/")[0] in ("ob-v3p0", "clr-v2p0")
    }
    ours = {n: b for n, b in _files(SCHEMAS).items() if n != "manifest.json"}
    assert sorted(ours) == sorted(theirs)
    changed = [name for name in theirs if ours[name] != theirs[name]]
    assert changed == []
