"""Database faults as typed errors that say what happened and what to do next.

:func:`install_fault_translation` hooks an engine's ``handle_error`` event so that a driver's
operational failure reaches every caller (service, CLI, web) as a :class:`DatabaseFaultError`
subclass instead of a traceback:

- ``DATABASE_UNAVAILABLE`` (503): the server cannot be reached, restarted or shut down, or the
  connection broke mid-transaction. The transaction was rolled back by the server, so nothing
  of it was saved; every write path is idempotent, so re-running the same command (or the same
  import file) finishes the work without duplicates.
- ``DISK_FULL`` (507): the database (SQLite file system, or PostgreSQL's ``53100``) has no
  space left. SQLite reports a full disk in WAL mode sometimes as ``SQLITE_FULL`` and sometimes
  as a generic ``disk I/O error``; the latter is checked against the free space of the
  database's folder.
- ``DATABASE_BUSY`` (503): a lock or serialization timeout (SQLite busy timeout, PostgreSQL
  ``40xxx`` / statement timeout); nothing was saved; retry.
- ``DATABASE_ERROR`` (503): any other operational failure (driver error name kept).

Only operational errors are translated: integrity errors (constraint violations) stay
SQLAlchemy's, because services use them for control flow. Pre-ping checks are left alone so the
pool can replace a dead connection silently.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from contexts.errors import SijilError

__all__ = [
    "LOW_SPACE_BYTES",
    "DatabaseBusyError",
    "DatabaseFaultError",
    "DatabaseUnavailableError",
    "DiskFullError",
    "database_fault",
    "install_fault_translation",
]

#: Free bytes under which a SQLite "disk I/O error" is reported as a full disk.
LOW_SPACE_BYTES: Final = 1024 * 1024

_NOTHING_SAVED: Final = (
    "nothing of the interrupted transaction was saved: re-run the same command "
    "(or re-import the same file; what was already imported is not imported twice)"
)


class DatabaseFaultError(SijilError):
    """The database failed for an operational reason (base of this module's errors)."""

    code = "DATABASE_ERROR"
    title = "The database failed"
    http_status = 503


class DatabaseUnavailableError(DatabaseFaultError):
    """The database server is unreachable, restarting, or dropped the connection."""

    code = "DATABASE_UNAVAILABLE"
    title = "The database is unavailable"


class DiskFullError(DatabaseFaultError):
    """The database has no disk space left."""

    code = "DISK_FULL"
    title = "The database's disk is full"
    http_status = 507


class DatabaseBusyError(DatabaseFaultError):
    """A lock or serialization timeout."""

    code = "DATABASE_BUSY"
    title = "The database is busy"


def _free_bytes(folder: Path | None) -> int | None:
    if folder is None:
        return None
    try:
        info = os.statvfs(folder)
    except OSError:
        return None
    return info.f_bavail * info.f_frsize


def _sqlite_fault(exc: sqlite3.Error, folder: Path | None) -> DatabaseFaultError | None:
    primary = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    name = getattr(exc, "sqlite_errorname", type(exc).__name__)
    if primary == sqlite3.SQLITE_FULL:
        return DiskFullError(
            f"the disk holding the database is full ({name}); free space in {folder or 'it'}; "
            f"{_NOTHING_SAVED}"
        )
    if primary == sqlite3.SQLITE_IOERR:
        free = _free_bytes(folder)
        if free is not None and free < LOW_SPACE_BYTES:
            return DiskFullError(
                f"the disk holding the database is full ({name}, {free} bytes free); free "
                f"space in {folder}; {_NOTHING_SAVED}"
            )
        return DatabaseFaultError(
            f"the database file could not be read or written ({name}); check the disk; "
            f"{_NOTHING_SAVED}"
        )
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseBusyError(
            f"another process held the database lock too long ({name}); {_NOTHING_SAVED}"
        )
    if primary in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
        return DatabaseUnavailableError(
            f"the database file cannot be opened for writing ({name}); check its folder and "
            f"permissions; {_NOTHING_SAVED}"
        )
    if isinstance(exc, sqlite3.OperationalError):
        return DatabaseFaultError(f"the database failed ({name}); {_NOTHING_SAVED}")
    return None


def _postgres_fault(exc: psycopg.Error) -> DatabaseFaultError | None:
    state = exc.sqlstate or ""
    name = type(exc).__name__
    if state == "53100":
        return DiskFullError(
            f"PostgreSQL has no disk space left ({name}); free space on the database server; "
            f"{_NOTHING_SAVED}"
        )
    if state.startswith("40") or state in ("55P03", "57014"):
        return DatabaseBusyError(
            f"a concurrent change or a timeout stopped the transaction ({name}); {_NOTHING_SAVED}"
        )
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return DatabaseUnavailableError(
            f"the database server is unreachable or restarted ({name}); once it answers "
            f"again, {_NOTHING_SAVED}"
        )
    return None


def database_fault(exc: BaseException, folder: Path | None = None) -> DatabaseFaultError | None:
    """The typed error for a driver exception ``exc``, or ``None`` when it is not an operational
    fault (constraint violations, programming errors). ``folder``: a SQLite file's folder."""
    if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
        return _sqlite_fault(exc, folder)
    if isinstance(exc, psycopg.Error):
        return _postgres_fault(exc)
    return None


def install_fault_translation(engine: Engine, folder: Path | None = None) -> None:
    """Raise :func:`database_fault`'s typed error for ``engine``'s operational failures."""

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return
        fault = database_fault(context.original_exception, folder)
        if fault is not None:
            raise fault
