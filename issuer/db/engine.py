"""Engine, sessions and schema migration for the issuer database.

SQLite (the zero-set-up default) gets foreign keys on, WAL journaling and a busy timeout so
several processes can share the file; PostgreSQL is used as is (``postgresql+psycopg://``).
The schema is owned by Alembic: :func:`migrate` runs ``alembic upgrade head`` programmatically
with the ``alembic.ini`` and ``migrations/`` packaged inside :mod:`issuer`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuer.db.faults import install_fault_translation

__all__ = [
    "WRITE_OPTION",
    "alembic_config",
    "is_postgresql",
    "make_engine",
    "make_sessionmaker",
    "migrate",
]

#: Connection execution option marking a write transaction (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "sijil_write"

_ISSUER_DIR = Path(__file__).resolve().parent.parent
_MIGRATE_LOCK = threading.Lock()


def is_postgresql(engine: Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL (row locks and advisory locks available)."""
    return engine.dialect.name == "postgresql"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get their parent folder created.

    Operational failures (server gone, disk full, lock timeouts) raise the typed errors of
    :mod:`issuer.db.faults` (``DATABASE_UNAVAILABLE``, ``DISK_FULL``, ``DATABASE_BUSY``,
    ``DATABASE_ERROR``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = None
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            folder.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        install_fault_translation(engine, folder)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own implicit BEGIN handling breaks SAVEPOINT (releasing the outermost
            # savepoint commits); let SQLAlchemy emit BEGIN itself (SQLAlchemy's SQLite docs,
            # "Serializable isolation / Savepoints / Transactional DDL").
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a killed process (kill -9); only an OS crash or
            # power loss can drop the last commits, never corrupt the file (SQLite docs, "WAL").
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Write transactions take the write lock up front: upgrading a read lock later
            # fails at once (SQLITE_BUSY) if another process wrote meanwhile.
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    install_fault_translation(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory; objects stay readable after commit (no expire on commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    """The packaged Alembic configuration, optionally bound to ``engine``."""
    config = Config(str(_ISSUER_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(_ISSUER_DIR / "migrations"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (``alembic upgrade head``); idempotent.

    Safe to call from several threads (Alembic's environment is module-global, so calls are
    serialized here) and from several processes on PostgreSQL (the migration transaction takes
    an advisory lock first; see ``migrations/env.py``).
    """
    with _MIGRATE_LOCK:
        command.upgrade(alembic_config(engine), revision)
