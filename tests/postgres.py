"""A real PostgreSQL server for the database tests, with no set-up.

``postgres_server`` (session scope, one per xdist worker process) yields a SQLAlchemy URL of a
database of its own:

- with ``SIJIL_TEST_POSTGRES_URL`` (``postgresql+psycopg://user:pw@host:port/db``): that server;
  a database ``sijil_test_<worker>`` is (re)created there and dropped at the end;
- else a throwaway cluster: ``initdb`` from ``/usr/lib/postgresql/*/bin`` (or ``PATH``) in a temp
  folder, run as the ``postgres`` user when we are root (root may not run PostgreSQL), started by
  ``pg_ctl`` on a free port, listening only on a unix socket in the temp folder, stopped and
  deleted at the end.

``throwaway_cluster()`` (a context manager yielding the admin URL) is that cluster on its own,
for the benchmarks in ``bench/``.

When no server can be had the tests are skipped with the reason, except under ``CI=true``, where
that is a failure (the CI gate installs PostgreSQL, so a skip there would hide a broken set-up).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

__all__ = [
    "PostgresUnavailableError",
    "create_database",
    "postgres_server",
    "reset_database",
    "throwaway_cluster",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(
        f"no PostgreSQL server: {reason} (install postgresql or set SIJIL_TEST_POSTGRES_URL)"
    )


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _psycopg_conninfo(sqlalchemy_url: str) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run_as_postgres(argv: list[str], *, as_root: bool) -> subprocess.CompletedProcess[str]:
    cmd = ["runuser", "-u", "postgres", "--", *argv] if as_root else argv
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def reset_database(url: str) -> None:
    """Drop everything in the test database (fresh ``public`` schema)."""
    with psycopg.connect(_psycopg_conninfo(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(_psycopg_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(_psycopg_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresUnavailableError(RuntimeError):
    """No throwaway PostgreSQL cluster can be started here (the message says why)."""


@contextmanager
def throwaway_cluster(label: str = "main") -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster; yield its admin SQLAlchemy URL; stop and delete it.

    ``initdb`` from ``/usr/lib/postgresql/*/bin`` (or ``PATH``) in a temp folder (name holds
    ``label``), run as the ``postgres`` user when we are root, started by ``pg_ctl`` on a free
    port, listening only on a unix socket in the temp folder, ``fsync=off``. Used by the
    ``postgres_server`` fixture and by the benchmarks in ``bench/``. Raises
    :class:`PostgresUnavailableError` when no cluster can be started.
    """
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise PostgresUnavailableError("initdb not found")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        raise PostgresUnavailableError(
            "running as root without runuser to drop to the postgres user"
        )
    root = Path(tempfile.mkdtemp(prefix=f"sijil-pg-{label}-"))
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    started = False
    try:
        init = _run_as_postgres(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            as_root=as_root,
        )
        if init.returncode != 0:
            raise PostgresUnavailableError(f"initdb failed: {init.stderr.strip()[-500:]}")
        options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off"
        start = _run_as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            as_root=as_root,
        )
        if start.returncode != 0:
            detail = log.read_text(errors="replace")[-500:] if log.exists() else start.stderr
            raise PostgresUnavailableError(f"pg_ctl start failed: {detail.strip()}")
        started = True
        yield f"postgresql+psycopg://postgres@/postgres?host={sockets}&port={port}"
    finally:
        if started:
            _run_as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                as_root=as_root,
            )
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server of ``admin_url``; return its URL."""
    return _create_database(admin_url, name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """SQLAlchemy URL (``postgresql+psycopg://``) of a database for this test worker."""
    name = f"sijil_test_{_worker()}"
    given = os.environ.get("SIJIL_TEST_POSTGRES_URL")
    if given:
        try:
            url = _create_database(given, name)
        except psycopg.Error as exc:
            _unavailable(f"cannot use SIJIL_TEST_POSTGRES_URL: {exc}")
        yield url
        _drop_database(given, name)
        return
    with ExitStack() as stack:
        try:
            admin = stack.enter_context(throwaway_cluster(_worker()))
        except PostgresUnavailableError as exc:
            _unavailable(str(exc))
            return
        yield _create_database(admin, name)
