"""``python -m issuer.devserver`` (what ``python3 dev.py run`` starts), run as a person would.

- the ports are checked before anything is set up (``PORT_IN_USE`` names the option);
- ``--port``, ``--verifier-port`` and ``--no-tls`` are honoured, and the printed URLs use them;
- it stops on SIGINT even when started with SIGINT ignored (as a background job of a
  non-interactive shell is), because it installs its own handlers;
- the instance remembers the base URL: a later run on another port is refused with
  ``BASE_URL_MISMATCH`` instead of printing URLs that point at the first port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

from issuer.devserver import PortInUseError, check_ports_free


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIJIL_", "SSL_CERT"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _devserver(*args: str) -> list[str]:
    return [sys.executable, "-m", "issuer.devserver", *args]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pump(stream: IO[str], lines: list[str], marker: str) -> threading.Event:
    seen = threading.Event()

    def run() -> None:
        for line in stream:
            lines.append(line)
            if marker in line:
                seen.set()
        seen.set()

    threading.Thread(target=run, daemon=True).start()
    return seen


def test_taken_port_is_refused_before_any_set_up(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as raised:
            check_ports_free("127.0.0.1", {"--verifier-port": port})
        assert "--verifier-port" in raised.value.detail
        proc = subprocess.run(
            _devserver("--port", str(port), "--verifier-port", str(_free_port())),
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("PORT_IN_USE:")
    assert "--port" in proc.stderr
    assert not (tmp_path / "instance").exists()


def test_devserver_started_with_sigint_ignored_stops_on_sigint(tmp_path: Path) -> None:
    port, verifier_port = _free_port(), _free_port()
    args = ["--port", str(port), "--verifier-port", str(verifier_port), "--no-tls"]
    proc = subprocess.Popen(
        _devserver(*args),
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=_ignore_sigint,  # started with SIGINT ignored: the condition under test
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        _pump(proc.stdout, lines, "Ctrl-C stops").wait(180)
        out = "".join(lines)
        assert "Ctrl-C stops" in out, out
        assert f"http://localhost:{port}/credentials/" in out
        assert f"http://127.0.0.1:{verifier_port}/verify?url=" in out
        # the default ports appear nowhere (a free port such as 50015 may start with them)
        assert re.search(r":500[01]\b", out) is None, out
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
    assert code == 0
    # The instance now belongs to http://localhost:<port>: another port is refused, loudly.
    other = subprocess.run(
        _devserver("--port", str(_free_port()), "--no-tls"),
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert other.returncode == 1
    assert "BASE_URL_MISMATCH" in other.stderr
    assert f"http://localhost:{port}" in other.stderr


def test_dev_py_run_checks_the_ports_before_setting_up(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                str(root / "dev.py"),
                "run",
                *("--port", str(_free_port()), "--verifier-port", str(port)),
            ],
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr.startswith("PORT_IN_USE:")
    assert "--verifier-port" in proc.stderr
    assert proc.stdout == ""  # no venv work, no set-up
