"""A bounded cache of RDFC-1.0 results, keyed by the exact content of the document.

Why: the same document is canonicalized again and again. An issuer signs a credential and
at once verifies it (the same unsecured document and proof options); a verifier sees the
same credential from many wallets and employers; every proof of a proof set canonicalizes
the same document. Canonicalization is a pure function of the document's JSON (contexts
are pinned and hash-checked, nothing is fetched), so its result can be reused.

Key: SHA-256 of the document's JSON text as :func:`json.dumps` writes it (member order
kept, so two documents that differ only in order are two entries), plus the RDFC-1.0
hash algorithm. Only plain JSON values are keyed (``dict`` with ``str`` keys, ``list``,
``str``, ``int``, ``float``, ``bool``, ``None``, exact types): a tuple, a subclass or a
non-finite float would serialize like something pyld reads differently, so such documents
are simply not cached (:func:`content_key` returns ``None``). Only successful results are
stored; a document that fails is refused afresh each time with the same error.

Bound: at most :data:`MAX_CHARS` characters of canonical N-Quads in all (least recently
used first out), and results over :data:`MAX_ENTRY_CHARS` are not kept. The cache never
changes a result, only how fast it comes: ``tests/test_speed_canonical.py`` compares
cached and uncached output.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from cachetools import LRUCache

__all__ = [
    "MAX_CHARS",
    "MAX_ENTRY_CHARS",
    "CanonicalCache",
    "content_key",
]

#: Total characters of canonical N-Quads kept (about 16 MB of text).
MAX_CHARS = 16_000_000
#: A single result larger than this is not kept (a credential embedding ~200 others).
MAX_ENTRY_CHARS = 1_000_000

_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _is_plain_json(doc: Any) -> bool:
    """Whether ``doc`` holds only exact JSON types (see the module docstring)."""
    if type(doc) not in (dict, list):
        return type(doc) in _PLAIN_SCALARS
    stack = [doc]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            for key, value in node.items():
                kind = type(value)
                if type(key) is not str:
                    return False
                if kind is dict or kind is list:
                    stack.append(value)
                elif kind not in _PLAIN_SCALARS:
                    return False
        else:
            for value in node:
                kind = type(value)
                if kind is dict or kind is list:
                    stack.append(value)
                elif kind not in _PLAIN_SCALARS:
                    return False
    return True


def content_key(doc: Any, hash_name: str) -> bytes | None:
    """The cache key of ``doc`` canonicalized with ``hash_name``, or ``None`` if uncacheable."""
    if not _is_plain_json(doc):
        return None
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return None
    digest = hashlib.sha256(hash_name.encode("ascii") + b"\x00")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


class CanonicalCache:
    """Thread-safe LRU of canonical N-Quads by :func:`content_key`, bounded in characters."""

    def __init__(self, max_chars: int = MAX_CHARS, max_entry_chars: int = MAX_ENTRY_CHARS):
        self._entries: LRUCache[bytes, str] = LRUCache(maxsize=max_chars, getsizeof=len)
        self._max_entry_chars = min(max_entry_chars, max_chars)
        self._lock = threading.Lock()

    def get(self, key: bytes) -> str | None:
        """The cached result for ``key``, or ``None``."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: bytes, nquads: str) -> None:
        """Keep ``nquads`` for ``key`` unless it is over the per-entry bound."""
        if len(nquads) > self._max_entry_chars or not nquads:
            return
        with self._lock:
            self._entries[key] = nquads

    def clear(self) -> None:
        """Forget everything (benchmarks measure cold with it)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
