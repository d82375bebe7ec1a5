"""The issuer's runtime: settings, database, key store, resolver and clock, wired once.

Shells (CLI commands, the Flask app factory, the dev server, tests) call :func:`open_runtime`
and pass the :class:`Runtime` to service functions; services never read globals. Time comes from
``rt.now()`` (an injected clock), keys from ``rt.keystore`` (encrypted at rest under
``<instance>/keys``), and self-verification resolves our own DIDs through ``rt.resolver``, which
has every issuer's DID document pinned and never touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from issuer.db.engine import WRITE_OPTION, make_engine, make_sessionmaker, migrate
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
    "open_runtime",
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
    """Hook for status lists (issue 5): entries for a credential about to be signed.

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
    _private_keys: dict[str, KeyPair] = field(default_factory=dict, repr=False)

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
            session.connection(execution_options={WRITE_OPTION: True})
            try:
                yield session
                session.commit()
            except BaseException:
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


def open_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    run_migrations: bool = True,
    status_lists: bool = False,
) -> Runtime:
    """Wire a :class:`Runtime` for ``settings``; migrates the schema to head unless told not to.

    Creates the instance folder. Does not create issuers (see ``issuers.ensure_default_issuer``).
    With ``status_lists`` every credential signed through this runtime gets Bitstring Status
    List entries (:class:`issuer.services.status.ListAllocator`); the serving shells turn it
    on (off by default only so callers that verify offline keep working until they pass a
    fetcher that can read our lists).
    """
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    keystore = KeyStore(settings.keys_dir, settings.key_passphrase)
    rt = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        keystore=keystore,
        resolver=Resolver(OfflineFetcher()),
        clock=clock,
    )
    if status_lists:
        # Imported here: the status service is built on this module's Runtime.
        from issuer.services.status import install_status_lists

        install_status_lists(rt)
    return rt
