"""Where a :class:`~issuer.services.runtime.Runtime` is put together (the composition root).

:mod:`issuer.services.runtime` defines what a runtime *is* and imports no service; this module
wires one (database and migrations, key store, resolver, the stored base URL, status lists), so
it may import the services that build on the runtime without an import cycle. Shells call
:func:`open_runtime`; services never do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from issuer.db.engine import make_engine, make_sessionmaker, migrate
from issuer.services.instance import settle_base_url
from issuer.services.runtime import OfflineFetcher, Runtime, utc_now
from issuer.services.status import install_status_lists
from issuer.settings import Settings
from keys.keystore import KeyStore
from keys.resolve import Resolver

__all__ = ["open_runtime"]


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
    try:
        settle_base_url(rt)  # the stored base URL, or BASE_URL_MISMATCH
    except BaseException:
        engine.dispose()
        raise
    if status_lists:
        install_status_lists(rt)
    return rt
