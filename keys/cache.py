"""A size-bounded, expiring, thread-safe cache for fetched documents (DID documents, status lists).

Why not a plain LRU of N entries: entries differ in size by three orders of magnitude (a
did:key-like document is 1 KiB, a fetched document may be tens of KiB), so a count bound
is no memory bound. Each entry here has a size (``sizeof(value)``) and the cache holds at
most ``max_bytes`` in total, evicting least recently used entries first; an entry larger
than the whole budget is not stored at all.

Time comes from an injected ``clock`` (default :func:`time.monotonic`): wall-clock steps
(NTP, a VM restored from a snapshot, an operator fixing the date) must never make a stale
entry look fresh. A clock that goes backwards anyway (an injected one, or a broken
monotonic source) expires every entry stored after the new "now": an entry is fresh only
while ``stored_at <= now < stored_at + ttl``. Expired entries are dropped whenever the
cache is written, not only when they are read again, so they never hold memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["ExpiringCache"]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    stored_at: float
    expires_at: float
    size: int


class ExpiringCache(Generic[K, V]):
    """``max_bytes`` worth of values (sized by ``sizeof``), each kept ``ttl`` seconds at most."""

    def __init__(
        self,
        *,
        max_bytes: int,
        sizeof: Callable[[V], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def current_bytes(self) -> int:
        """The summed size of the values held now."""
        with self._lock:
            return self._bytes

    def get(self, key: K) -> V | None:
        """The fresh value for ``key``, or None (a stale entry is dropped)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.stored_at <= now < entry.expires_at:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: K, value: V, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (not at all when ``ttl <= 0`` or it is larger
        than the whole budget); drop expired entries, then least recently used ones."""
        now = self._clock()
        size = self._sizeof(value)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._purge(now)
            if ttl <= 0 or size > self.max_bytes:
                return
            self._entries[key] = _Entry(value, now, now + ttl, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def _purge(self, now: float) -> None:
        stale = [k for k, e in self._entries.items() if not e.stored_at <= now < e.expires_at]
        for key in stale:
            self._drop(key)
