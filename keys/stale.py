"""Last-known copies of fetched documents, for riding out a short issuer outage.

A DID document or a status list that was fetched and verified once is kept, beside the
ordinary TTL cache, in a :class:`StaleStore` for at most ``max_age`` seconds of the injected
clock (monotonic by default, so a wall-clock step never makes an old copy look young), bounded
in bytes like the cache. When a later fresh fetch fails because the issuer is unreachable
(:func:`is_outage`: a timeout, a network failure or an HTTP 5xx answer), the last good copy
is used instead and the use is recorded as a :class:`StaleUse` with its age, so the report can
say "status as of 3 h ago". A document that was never fetched successfully has no last-known
copy: the failure stands. A refusal that says something about the document itself (HTTP 404 /
410, a forbidden address, an oversized or non-JSON body) never falls back.

Stale uses are collected per verification through :func:`collect_stale_uses` (a context
variable, so concurrent requests on other threads never see each other's uses); outside one,
:func:`note_stale_use` records nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

from keys.cache import ExpiringCache
from keys.fetch import (
    FetchError,
    ForbiddenAddressError,
    ResponseTooLargeError,
    UnexpectedContentTypeError,
)

__all__ = [
    "DEFAULT_STALE_MAX_AGE",
    "StaleStore",
    "StaleUse",
    "collect_stale_uses",
    "is_outage",
    "note_stale_use",
]

K = TypeVar("K")
V = TypeVar("V")

#: Seven days: long enough for a weekend outage, short enough that a revocation shows soon.
DEFAULT_STALE_MAX_AGE = 7 * 24 * 3600.0
_REFUSALS = (ForbiddenAddressError, ResponseTooLargeError, UnexpectedContentTypeError)


@dataclass(frozen=True)
class StaleUse:
    """A last-known copy used because a fresh fetch failed.

    ``kind`` is ``"key_document"`` or ``"status_list"``; ``age_seconds`` is how long ago the
    copy was fetched; ``cause`` is the code of the failed fresh fetch.
    """

    kind: str
    url: str
    age_seconds: float
    cause: str


_USES: ContextVar[list[StaleUse] | None] = ContextVar("sijil_stale_uses", default=None)


@contextmanager
def collect_stale_uses() -> Iterator[list[StaleUse]]:
    """Collect the stale uses of the code run inside the ``with`` block into a list."""
    uses: list[StaleUse] = []
    token = _USES.set(uses)
    try:
        yield uses
    finally:
        _USES.reset(token)


def note_stale_use(use: StaleUse) -> None:
    """Record ``use`` for the enclosing :func:`collect_stale_uses` (if any)."""
    uses = _USES.get()
    if uses is not None:
        uses.append(use)


def is_outage(error: FetchError) -> bool:
    """Whether ``error`` looks like the issuer being unreachable for now (timeout, network
    failure, HTTP 5xx), as opposed to an answer about the document (404, 410, a refusal)."""
    if isinstance(error, _REFUSALS):
        return False
    status = error.extra.get("status")
    return not isinstance(status, int) or status >= 500


class StaleStore(Generic[K, V]):
    """Last good values, each usable for ``max_age`` seconds after it was fetched.

    ``max_age <= 0`` keeps nothing (the fallback is off). Thread-safe.
    """

    def __init__(
        self,
        *,
        max_age: float = DEFAULT_STALE_MAX_AGE,
        max_bytes: int,
        sizeof: Callable[[V], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self._clock = clock
        self._entries: ExpiringCache[K, tuple[V, float]] = ExpiringCache(
            max_bytes=max_bytes, sizeof=lambda item: sizeof(item[0]), clock=clock
        )

    def keep(self, key: K, value: V) -> None:
        """Remember ``value`` as the last good copy for ``key``, fetched now."""
        self._entries.put(key, (value, self._clock()), self.max_age)

    def last_good(self, key: K) -> tuple[V, float] | None:
        """The last good copy and its age in seconds, or ``None`` (never fetched, or older
        than ``max_age``)."""
        found = self._entries.get(key)
        if found is None:
            return None
        value, fetched_at = found
        return value, max(0.0, self._clock() - fetched_at)

    def clear(self) -> None:
        """Forget every copy."""
        self._entries.clear()
