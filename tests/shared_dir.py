"""Where the official vectors, contexts and schemas the tests read live: inside the repository.

- :data:`VECTORS`: W3C / 1EdTech test vectors, ``tests/vectors/`` (provenance and licences in its
  README.md).
- :data:`CONTEXTS`: the pinned JSON-LD contexts the package ships, ``contexts/files/``.
- :data:`SCHEMAS`: the pinned OB 3.0 / CLR 2.0 JSON Schemas the package ships,
  ``verifier/schemas/``.
- :data:`UPSTREAM`: an upstream checkout of the same material laid beside the repository
  (``../shared``). Optional: only ``tests/test_vectors_drift.py`` reads it, and skips when it is
  absent, so a fresh clone with nothing beside it runs every other test.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CONTEXTS", "REPO", "SCHEMAS", "UPSTREAM", "VECTORS"]

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors"
CONTEXTS = REPO / "contexts" / "files"
SCHEMAS = REPO / "verifier" / "schemas"
UPSTREAM = REPO.parent / "shared"
