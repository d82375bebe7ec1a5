"""Fault injection for the ``test_faults_*`` tests: real failures, no mocks.

- :class:`PgCluster`: a throwaway PostgreSQL cluster of the test's own that can be stopped
  (``pg_ctl stop -m fast``: every session is cut, like a server restart) and started again on
  the same port, so the shared per-worker test server is never disturbed.
- :func:`in_private_mounts`: run a shell script in a private mount namespace (``unshare``), where
  it may mount a tiny tmpfs (a disk that fills up) or a read-only bind mount (a key store that
  cannot be written, which even root cannot write through). The mounts vanish with the process.
- :func:`cli_env` / :data:`CLI`: the ``sijil-issuer`` command of this virtualenv and its
  environment for an instance folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Final

import pytest
from postgres import PostgresUnavailableError, throwaway_cluster

__all__ = ["CLI", "PgCluster", "cli_env", "in_private_mounts", "run_cli"]

CLI: Final = str(Path(sys.executable).with_name("sijil-issuer"))
BASE_URL: Final = "https://issuer.faults.example"


def cli_env(instance: Path, database_url: str | None = None) -> dict[str, str]:
    """Environment for ``sijil-issuer`` on ``instance`` (SQLite in it unless ``database_url``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}
    env.update(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": database_url or f"sqlite:///{instance}/sijil.db",
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            "SIJIL_NOTIFY_LEARNERS": "0",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``sijil-issuer ARGS`` to completion (2 minutes at most)."""
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def in_private_mounts(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (``sh -e``) as root of a private user + mount namespace; skip the test
    when this machine does not allow one."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare(1) is not installed: cannot mount a tiny or read-only file system")
    probe = subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.strip()}")
    return subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "sh", "-e", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


class PgCluster:
    """A PostgreSQL cluster of this test's own that can be stopped and restarted (see module)."""

    def __init__(self) -> None:
        self._context = throwaway_cluster("faults")
        self.admin_url = ""
        self._root = Path(tempfile.gettempdir())

    def __enter__(self) -> PgCluster:
        try:
            self.admin_url = self._context.__enter__()
        except PostgresUnavailableError as exc:
            pytest.skip(f"no PostgreSQL cluster: {exc}")
        # throwaway_cluster listens on a socket folder inside its root: <root>/sock.
        host = self.admin_url.split("host=", 1)[1].split("&", 1)[0]
        self._root = Path(host).parent
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.is_running():
            self.start()  # throwaway_cluster stops what it started
        self._context.__exit__(exc_type, exc, tb)

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        from postgres import _bin_dir, _run_as_postgres

        bin_dir = _bin_dir()
        assert bin_dir is not None
        return _run_as_postgres(
            [str(bin_dir / "pg_ctl"), "-D", str(self._root / "data"), *args],
            as_root=os.geteuid() == 0,
        )

    def is_running(self) -> bool:
        """Whether the server is up."""
        return self._pg_ctl("status").returncode == 0

    def stop(self) -> None:
        """Stop the server now, cutting every session (a restart's first half)."""
        done = self._pg_ctl("-m", "fast", "-w", "stop")
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        """Start the stopped server again on its socket folder and port."""
        port = self.admin_url.split("port=", 1)[1].split("&", 1)[0]
        options = f"-p {port} -k {self._root / 'sock'} -c listen_addresses='' -c fsync=off"
        done = self._pg_ctl("-o", options, "-l", str(self._root / "server.log"), "-w", "start")
        assert done.returncode == 0, done.stderr
