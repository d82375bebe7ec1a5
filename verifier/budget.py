"""Bounded outbound work per verification: a fetch count, one deadline, few status entries.

A credential names the URLs the verifier fetches (did:web documents, controller documents,
status lists, and those of every credential it embeds), so without a bound one request can
make the verifier fetch hundreds of URLs, or wait for hours on hosts that never answer.
:class:`VerificationLimits` states the bounds; :meth:`VerificationLimits.start` makes the
:class:`FetchBudget` of one verification, shared by every fetch it makes:

* at most ``max_fetches`` outbound fetches (:data:`MAX_FETCHES`); one more is refused with
  ``FETCH_BUDGET_EXCEEDED`` without touching the network;
* one deadline, ``deadline`` seconds after the verification starts
  (:data:`DEADLINE_SECONDS`): every fetch is given what is left of it (through
  :meth:`keys.fetch.ScopedFetcher.scoped`, so a slow server is cut off mid-read), and a
  fetch after it is refused with ``VERIFICATION_DEADLINE_EXCEEDED``;
* at most ``max_status_entries`` ``credentialStatus`` entries per credential
  (:data:`MAX_STATUS_ENTRIES`, applied by :class:`verifier.status.StatusListClient`).

A URL that failed once in a verification fails again from memory, without a second fetch.
Both errors are :class:`keys.fetch.FetchError` subclasses, so every caller that already
turns fetch failures into "could not check" does the same with these.

The deadline bounds the network only: CPU is bounded elsewhere (RDFC-1.0 work limit in
:mod:`contexts.rdfc`, request size caps in the web layer).

Environment (read by :meth:`VerificationLimits.from_env`): ``SIJIL_VERIFY_MAX_FETCHES``,
``SIJIL_VERIFY_DEADLINE`` (seconds), ``SIJIL_VERIFY_MAX_STATUS_ENTRIES``; a value that is
not a positive number raises ``MALFORMED_VALUE_ERROR``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keys.fetch import (
    DEFAULT_JSON_ACCEPT,
    Fetcher,
    FetchError,
    FetchResponse,
    FetchTimeoutError,
    ResponseTooLargeError,
    ScopedFetcher,
)
from keys.resolve import Resolver
from webplatform.settings import number_setting

from .status import MAX_STATUS_ENTRIES, StatusListClient

__all__ = [
    "DEADLINE_SECONDS",
    "MAX_FETCHES",
    "MAX_STATUS_ENTRIES",
    "BudgetedFetcher",
    "FetchBudget",
    "FetchBudgetExceededError",
    "VerificationDeadlineError",
    "VerificationLimits",
    "bind_budget",
]

#: Outbound fetches one verification may make (keys and status lists of every credential).
MAX_FETCHES = 8
#: Seconds one verification may spend waiting on the network, in total.
DEADLINE_SECONDS = 10.0


class FetchBudgetExceededError(FetchError):
    """This verification already made as many outbound fetches as it may."""

    code = "FETCH_BUDGET_EXCEEDED"
    title = "Too many fetches for one verification"
    http_status = 422


class VerificationDeadlineError(FetchTimeoutError):
    """This verification's time for outbound fetches is over."""

    code = "VERIFICATION_DEADLINE_EXCEEDED"
    title = "Verification deadline exceeded"
    http_status = 504


@dataclass(frozen=True)
class VerificationLimits:
    """The bounds of one verification (see the module docstring)."""

    max_fetches: int = MAX_FETCHES
    deadline: float = DEADLINE_SECONDS
    max_status_entries: int = MAX_STATUS_ENTRIES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VerificationLimits:
        """Limits from ``SIJIL_VERIFY_*`` variables (default ``os.environ``).

        Raises ``SETTINGS_ERROR`` for a value that is not a positive number.
        """
        source = os.environ if env is None else env
        return cls(
            max_fetches=int(number_setting(source, "SIJIL_VERIFY_MAX_FETCHES", MAX_FETCHES)),
            deadline=number_setting(source, "SIJIL_VERIFY_DEADLINE", DEADLINE_SECONDS),
            max_status_entries=int(
                number_setting(source, "SIJIL_VERIFY_MAX_STATUS_ENTRIES", MAX_STATUS_ENTRIES)
            ),
        )

    def start(self) -> FetchBudget:
        """The budget of a verification starting now."""
        return FetchBudget(self)


class FetchBudget:
    """What one verification may still fetch, and until when (``time.monotonic`` values,
    the clock :class:`keys.fetch.SafeFetcher` measures its deadlines with). Thread-safe."""

    def __init__(self, limits: VerificationLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.deadline
        self.fetches = 0
        self._failed: dict[tuple[str, str, str], FetchError] = {}
        self._lock = threading.Lock()

    def charge(self, url: str) -> None:
        """Count one fetch of ``url``; raise ``FETCH_BUDGET_EXCEEDED`` or
        ``VERIFICATION_DEADLINE_EXCEEDED`` (without counting) when it may not happen."""
        with self._lock:
            if time.monotonic() >= self.deadline:
                raise VerificationDeadlineError(
                    f"{url}: not fetched, the verification's {self.limits.deadline:g} s "
                    "for network requests are over",
                    url=url,
                )
            if self.fetches >= self.limits.max_fetches:
                raise FetchBudgetExceededError(
                    f"{url}: not fetched, the verification already made "
                    f"{self.limits.max_fetches} requests",
                    url=url,
                )
            self.fetches += 1

    def remember_failure(self, key: tuple[str, str, str], error: FetchError) -> None:
        """Keep ``error`` so the same fetch fails again without going out."""
        with self._lock:
            self._failed[key] = error

    def failure(self, key: tuple[str, str, str]) -> FetchError | None:
        """The earlier failure of this fetch in this verification, if any."""
        with self._lock:
            return self._failed.get(key)

    def wrap(self, fetcher: Fetcher) -> BudgetedFetcher:
        """``fetcher`` charging this budget."""
        return BudgetedFetcher(fetcher, self)


class BudgetedFetcher:
    """A :class:`keys.fetch.Fetcher` (and :class:`keys.fetch.ScopedFetcher`) that charges a
    :class:`FetchBudget` before every fetch and gives the inner fetcher what is left of the
    deadline."""

    def __init__(self, inner: Fetcher, budget: FetchBudget, *, max_bytes: int | None = None):
        self.inner = inner
        self.budget = budget
        self._max_bytes = max_bytes

    def scoped(
        self, *, deadline: float | None = None, max_bytes: int | None = None
    ) -> BudgetedFetcher:
        """The same budget; bodies capped at ``max_bytes`` as well (``deadline`` can only
        be the budget's or earlier, and the budget's applies anyway)."""
        caps = [c for c in (self._max_bytes, max_bytes) if c is not None]
        inner = self.inner
        if deadline is not None and isinstance(inner, ScopedFetcher):
            inner = inner.scoped(deadline=deadline)
        return BudgetedFetcher(inner, self.budget, max_bytes=min(caps) if caps else None)

    def _target(self) -> Fetcher:
        if isinstance(self.inner, ScopedFetcher):
            return self.inner.scoped(deadline=self.budget.deadline, max_bytes=self._max_bytes)
        return self.inner

    def _fetch(self, kind: str, url: str, accept: str) -> Any:
        key = (kind, url, accept)
        earlier = self.budget.failure(key)
        if earlier is not None:
            raise earlier
        self.budget.charge(url)
        target = self._target()
        capped = self._max_bytes is not None and not isinstance(self.inner, ScopedFetcher)
        try:
            if kind == "json":
                result: Any = target.get_json(url, accept=accept)
                size = len(json.dumps(result)) if capped else 0
            else:
                result = target.get_bytes(url, accept=accept)
                size = len(result.body)
            if capped and self._max_bytes is not None and size > self._max_bytes:
                # an inner fetcher that cannot cap while reading: refuse after the fact
                raise ResponseTooLargeError(f"{url}: body exceeds {self._max_bytes} bytes", url=url)
        except FetchError as exc:
            self.budget.remember_failure(key, exc)
            raise
        return result

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The inner fetcher's ``get_json``, charged to the budget."""
        return self._fetch("json", url, accept)

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The inner fetcher's ``get_bytes``, charged to the budget."""
        response: FetchResponse = self._fetch("bytes", url, accept)
        return response


def bind_budget(
    budget: FetchBudget, resolver: Resolver, status_client: StatusListClient
) -> tuple[Resolver, StatusListClient]:
    """Views of ``resolver`` and ``status_client`` whose fetches all charge ``budget``.

    The views share the originals' caches. A resolver without a fetcher stays without one
    (it resolves did:key and pinned documents only).
    """
    bound_resolver = resolver
    if resolver.fetcher is not None:
        bound_resolver = resolver.with_fetcher(budget.wrap(resolver.fetcher))
    status_resolver: Any = status_client.resolver
    if status_resolver is resolver:
        status_resolver = bound_resolver
    elif isinstance(status_resolver, Resolver) and status_resolver.fetcher is not None:
        status_resolver = status_resolver.with_fetcher(budget.wrap(status_resolver.fetcher))
    bound_status = status_client.with_fetcher(
        budget.wrap(status_client.fetcher),
        status_resolver,
        max_status_entries=budget.limits.max_status_entries,
    )
    return bound_resolver, bound_status
