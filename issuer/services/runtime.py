"""The issuer's runtime: settings, database, key store, resolver and clock, wired once.

Shells (CLI commands, the Flask app factory, the dev server, tests) get one from
:func:`issuer.services.bootstrap.open_runtime` and pass the :class:`Runtime` to service
functions; services never read globals. Time comes from ``rt.now()`` (an injected clock), keys
from ``rt.keystore`` (encrypted at rest under ``<instance>/keys``), and self-verification
resolves our own DIDs through ``rt.resolver``, which has every issuer's DID document pinned
and never touches the network. This module imports no service, so every service can import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from issuer.db.engine import WRITE_OPTION
from issuer.db.faults import DatabaseFaultError
from issuer.settings import Settings
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchError, FetchResponse
from keys.keypair import KeyPair
from keys.keystore import KeyStore
from keys.resolve import Resolver

__all__ = [
    "OfflineFetcher",
    "Runtime",
    "StatusAllocator",
    "as_utc",
    "utc_now",
]


def as_utc(at: datetime) -> datetime:
    """``at`` as an aware UTC time (SQLite hands back naive UTC datetimes)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def utc_now() -> datetime:
    """The real clock (UTC, aware)."""
    return datetime.now(UTC)


class OfflineFetcher:
    """A Fetcher that never fetches: self-verification only uses pinned documents."""

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """Always ``FETCH_ERROR``."""
        raise FetchError(f"the issuer does not fetch {url} while verifying its own credentials")

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """Always ``FETCH_ERROR``."""
        raise FetchError(f"the issuer does not fetch {url} while verifying its own credentials")


class StatusAllocator(Protocol):
    """Hook for status lists: entries for a credential about to be signed.

    Called inside the award's transaction, so an allocated index is committed with the award
    or not at all.
    """

    def __call__(
        self, session: Session, issuer_id: int, credential_id: str
    ) -> Sequence[Mapping[str, Any]]: ...


@dataclass
class Runtime:
    """Everything a service function needs, injected."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keystore: KeyStore
    resolver: Resolver
    clock: Callable[[], datetime] = utc_now
    status_allocator: StatusAllocator | None = None
    #: DID -> tuple of published verification methods last pinned in ``resolver``.
    pinned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: issuer slug -> why this instance signs with another key than the active one.
    key_warnings: dict[str, str] = field(default_factory=dict)
    #: monotonic clock (seconds) paired with ``clock`` to notice wall-clock jumps.
    monotonic: Callable[[], float] = time.monotonic
    #: (wall clock, monotonic clock) when the runtime started: the clock check's reference.
    started: tuple[datetime, float] | None = None
    _private_keys: dict[str, KeyPair] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = (self.now(), self.monotonic())

    def clock_drift(self) -> float:
        """Seconds the wall clock moved beyond the monotonic clock since the runtime started:
        ~0 normally; large after a clock step (NTP correction, a VM restored, a faked clock)."""
        wall0, mono0 = self.started or (self.now(), self.monotonic())
        return (self.now() - wall0).total_seconds() - (self.monotonic() - mono0)

    def private_key(self, key_id: str) -> KeyPair:
        """A decrypted signing key from the key store, cached for the runtime's life (scrypt
        makes each decryption deliberately slow). Raises the key store's errors."""
        key = self._private_keys.get(key_id)
        if key is None:
            key = self._private_keys[key_id] = self.keystore.load(key_id)
        return key

    def now(self) -> datetime:
        """Current time from the injected clock (aware UTC)."""
        at = self.clock()
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on any error.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE`` (see
        :func:`issuer.db.engine.make_engine`), so two processes writing one file queue on the
        busy timeout instead of failing when a read lock cannot be upgraded.
        """
        with self.sessions() as session:
            try:
                session.connection(execution_options={WRITE_OPTION: True})
                yield session
                session.commit()
            except BaseException:
                # A lost connection cannot roll back; the server already did. The original
                # error (typed by :mod:`issuer.db.faults`) is the one to report.
                with suppress(SQLAlchemyError, DatabaseFaultError):
                    session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads (rolled back at the end)."""
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()
