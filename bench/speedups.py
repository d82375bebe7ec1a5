"""Turn sijil's speed-ups off inside a benchmark process, to measure "before" and "after" alike.

``--reference`` in ``bench_verify.py``, ``bench_crypto.py`` and ``bench_issue.py`` calls
:func:`disable`: the canonicalization cache keeps nothing, every document goes through
pyld's expansion (not :mod:`contexts.fastrdf`), IRI expansion is not memoized, and
JSON Schema validation uses only the reference validator (``jsonschema``), as before those
speed-ups existed. Results are identical either
way (``tests/test_speed_*.py``); only the time differs. Not for production use.
"""

from __future__ import annotations

from typing import Any

from pyld import jsonld as pyld_jsonld

import contexts.jsonld
import verifier.schema
from contexts.canonical_cache import CanonicalCache
from contexts.processor import MemoizingProcessor

__all__ = ["disable"]


def _no_fast_validator(rel: str) -> Any:
    return None


def _no_fast_path(doc: Any, options: Any) -> None:
    return None


def disable() -> None:
    """Switch off the canonicalization cache, the one-pass JSON-LD to RDF path, the IRI
    expansion memo and the native schema validator (this process)."""
    setattr(contexts.jsonld, "fast_node_map", _no_fast_path)  # noqa: B010 (a private name)
    contexts.jsonld._CANONICAL_CACHE = CanonicalCache(max_chars=1, max_entry_chars=0)
    MemoizingProcessor._expand_iri = pyld_jsonld.JsonLdProcessor._expand_iri  # type: ignore[method-assign]
    verifier.schema.fast_validator_for = _no_fast_validator  # type: ignore[assignment]
