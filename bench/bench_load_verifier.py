"""Load benchmark: the verifier under gunicorn, driven by wrk from a second process (not a test).

    .venv/bin/python bench/bench_load_verifier.py [--duration 60] [--workers 2,4] \\
        [--connections 16,64] [--scenarios verify,page] [--status local|none] [--json OUT]

For each number of gunicorn workers, the verifier app is started under its production server
setup: ``gunicorn -c deploy/gunicorn/verifier.py`` when that config file exists (the app as
``verifier.web.wsgi:app`` when that module exists, else ``verifier.web:create_app()``), with
``-b 127.0.0.1:<free port> -w <workers>`` on the command line; without the config file, plain
gunicorn flags (sync workers). Then, for each number of connections, ``wrk`` (a separate
process, 2 threads) runs each scenario for ``--duration`` seconds with ``--latency``:

- ``verify``: ``POST /credentials/verify`` with ``{"verifiableCredential": COA, "options": {}}``,
  where the COA is a real sijil COA signed (eddsa-rdfc-2022) by a did:key issuer with the test
  fixtures' code (``tests/verifier_fixtures.py``), so resolving the key needs no network. With
  ``--status local`` (default) the COA carries a revocation entry on a status list this bench
  serves itself on loopback (``SIJIL_ALLOW_LOCAL_FETCH=1`` for the verifier; each worker fetches
  it once, then caches it as in production); with ``--status none`` the COA has no
  ``credentialStatus``. Only a 200 (verified) counts as success: a 422 (not verified) is a
  non-2xx error for wrk.
- ``page``: ``GET /``, the verifier's human page (template render, security headers).

Before the load, one request of each scenario is checked (200, ``verified: true``). Errors
reported: wrk's socket errors (connect, read, write, timeout) and responses that are not 2xx/3xx
(``status``), plus gunicorn worker timeouts/tracebacks found in its log; all must be 0.

The verifier's per-client rate limits are switched off for the run through the environment
(``SIJIL_RATE_LIMITS_ENABLED=0``): every request comes from 127.0.0.1, so a production limiter
would cap the load at one client's quota. The figures are for the service itself.

Loopback only, bounded in time; every process started here (gunicorn, wrk) is stopped on exit,
on Ctrl-C and on errors. Needs ``wrk`` on ``PATH`` (Debian/Ubuntu: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from verifier_fixtures import (  # noqa: E402
    Learner,
    coa_for,
    key_from_seed,
    status_entry,
    status_list,
)
from verifier_trust import trust_file  # noqa: E402

__all__ = ["LoadResult", "main"]

LUA = ROOT / "bench" / "load" / "scenario.lua"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn" / "verifier.py"
WSGI_MODULE = ROOT / "verifier" / "web" / "wsgi.py"
ISSUER = key_from_seed(7)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt-aisyah")
#: Environment that keeps the per-client rate limiter from capping a one-client load test.
NO_RATE_LIMITS = {"SIJIL_RATE_LIMITS_ENABLED": "0"}


@dataclass
class LoadResult:
    """One wrk run: what was measured and what wrk counted."""

    scenario: str
    workers: int
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx_3xx: int
    socket_errors: int
    load_before: float

    @property
    def errors(self) -> int:
        """Every error wrk counted."""
        return self.non_2xx_3xx + self.socket_errors


class _StatusServer(ThreadingHTTPServer):
    daemon_threads = True
    body: bytes = b""
    hits: int = 0


class _StatusHandler(BaseHTTPRequestHandler):
    server: _StatusServer

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/vc+ld+json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def _status_server() -> Iterator[_StatusServer]:
    server = _StatusServer(("127.0.0.1", 0), _StatusHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _gunicorn_command(port: int, workers: int) -> list[str]:
    found = Path(sys.executable).parent / "gunicorn"
    exe = str(found) if found.exists() else shutil.which("gunicorn")
    if exe is None:
        raise SystemExit("gunicorn not found: pip install gunicorn (it is in pyproject.toml)")
    app = "verifier.web.wsgi:app" if WSGI_MODULE.exists() else "verifier.web:create_app()"
    cmd = [exe]
    if GUNICORN_CONFIG.exists():
        cmd += ["-c", str(GUNICORN_CONFIG)]
    return [*cmd, "-b", f"127.0.0.1:{port}", "-w", str(workers), app]


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """SIGTERM the process we started (gunicorn master: graceful), then SIGKILL its group."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # start_new_session: the group is ours
        proc.wait(timeout=10)


@contextmanager
def _gunicorn(port: int, workers: int, env: dict[str, str], log: Path) -> Iterator[list[str]]:
    cmd = _gunicorn_command(port, workers)
    env = {**env, "SIJIL_BIND": f"127.0.0.1:{port}", "SIJIL_WORKERS": str(workers)}
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log}")
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log}")
            time.sleep(0.2)
        yield cmd
    finally:
        _stop(proc)


def _check_once(port: int, body: bytes) -> None:
    status, raw = _request(port, "POST", "/credentials/verify", body)
    report = json.loads(raw)
    if status != 200 or report.get("verified") is not True:
        raise SystemExit(f"the benchmark credential did not verify ({status}): {raw[:500]!r}")
    status, raw = _request(port, "GET", "/")
    if status != 200:
        raise SystemExit(f"GET / answered {status}")


def _wrk(
    wrk: str,
    url: str,
    connections: int,
    seconds: int,
    lua_args: list[str],
    out: Path,
) -> dict[str, Any]:
    cmd = [
        wrk,
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA),
        url,
        "--",
        *lua_args,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        text, _ = proc.communicate(timeout=seconds + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with out.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(cmd)}\n{text}\n")
    for line in text.splitlines():
        if line.startswith("SIJIL_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("SIJIL_RESULT "))
            return result
    raise SystemExit(f"wrk printed no result (exit {proc.returncode}):\n{text}")


def _log_problems(log: Path) -> int:
    text = log.read_text(encoding="utf-8", errors="replace")
    return sum(text.count(marker) for marker in ("WORKER TIMEOUT", "Traceback", "[CRITICAL]"))


def _table(results: list[LoadResult]) -> str:
    lines = [
        "| scenario | gunicorn workers | connections | requests | req/s | p50 | p90 | p99 | max "
        "| non-2xx/3xx | socket errors | load avg before |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.workers} | {r.connections} | {r.requests:,} | {r.rps:,.1f} "
            f"| {r.p50_ms:.1f} ms | {r.p90_ms:.1f} ms | {r.p99_ms:.1f} ms | {r.max_ms:.0f} ms "
            f"| {r.non_2xx_3xx} | {r.socket_errors} | {r.load_before:.1f} |"
        )
    return "\n".join(lines)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # run the clean-up of every context manager


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per wrk run")
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts")
    parser.add_argument("--connections", default="16,64", help="wrk connection counts")
    parser.add_argument("--scenarios", default="verify,page")
    parser.add_argument("--status", choices=("local", "none"), default="local")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found: install it (Debian/Ubuntu: apt-get install wrk)")
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - {"verify", "page"}
    if unknown:
        raise SystemExit(f"unknown scenarios: {sorted(unknown)}")
    signal.signal(signal.SIGTERM, _on_sigterm)

    results: list[LoadResult] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sijil-load-")))
        env = dict(os.environ)
        env.update(NO_RATE_LIMITS)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp / "metrics")  # deleted with tmp
        status: list[dict[str, Any]] | None = None
        server: _StatusServer | None = None
        if args.status == "local":
            server = stack.enter_context(_status_server())
            list_url = f"http://127.0.0.1:{server.server_address[1]}/status/1"
            server.body = json.dumps(status_list(ISSUER, list_url)).encode()
            status = [status_entry(list_url, 4242)]
            env["SIJIL_ALLOW_LOCAL_FETCH"] = "1"
        coa = coa_for(ISSUER, LEARNER, "LD101", "Load Testing", serial=1, status=status)
        # The verifier answers "valid" (200) only for a recognised issuer.
        env["SIJIL_TRUST_FILE"] = str(trust_file(tmp, ISSUER))
        body = json.dumps({"verifiableCredential": coa, "options": {}}).encode()
        body_file = tmp / "verify-body.json"
        body_file.write_bytes(body)
        gunicorn_log = tmp / "gunicorn.log"
        wrk_log = tmp / "wrk.log"
        print(
            f"verifier load: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
            f"COA {len(body)} bytes, status: {args.status}; wrk {args.duration} s per run"
        )
        for workers in _ints(args.workers):
            port = _free_port()
            with _gunicorn(port, workers, env, gunicorn_log) as cmd:
                print(f"$ {' '.join(cmd)}")
                _check_once(port, body)
                for connections in _ints(args.connections):
                    for scenario in scenarios:
                        if scenario == "verify":
                            url = f"http://127.0.0.1:{port}/credentials/verify"
                            lua_args = ["POST", str(body_file)]
                        else:
                            url = f"http://127.0.0.1:{port}/"
                            lua_args = ["GET"]
                        load = os.getloadavg()[0]
                        raw = _wrk(wrk, url, connections, args.duration, lua_args, wrk_log)
                        seconds = raw["duration_us"] / 1e6
                        result = LoadResult(
                            scenario=scenario,
                            workers=workers,
                            connections=connections,
                            seconds=seconds,
                            requests=raw["requests"],
                            rps=raw["requests"] / seconds,
                            p50_ms=raw["p50_us"] / 1e3,
                            p90_ms=raw["p90_us"] / 1e3,
                            p99_ms=raw["p99_us"] / 1e3,
                            max_ms=raw["max_us"] / 1e3,
                            non_2xx_3xx=raw["status"],
                            socket_errors=raw["connect"]
                            + raw["read"]
                            + raw["write"]
                            + raw["timeout"],
                            load_before=load,
                        )
                        results.append(result)
                        print(
                            f"  {scenario:<6} w={workers} c={connections:<3} "
                            f"{result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
                            f"p90 {result.p90_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
                            f"errors {result.errors} (load {load:.1f})",
                            flush=True,
                        )
        problems = _log_problems(gunicorn_log)
        hits = server.hits if server is not None else 0
        print()
        print(_table(results))
        total = sum(r.errors for r in results)
        print(
            f"\nerrors: {total} from wrk; {problems} worker timeouts/tracebacks in the gunicorn "
            f"log; status list fetched {hits} times (cached per worker)"
        )
        if args.json is not None:
            args.json.write_text(
                json.dumps([asdict(r) for r in results], indent=2) + "\n", encoding="utf-8"
            )
        if total or problems:
            shutil.copy(gunicorn_log, ROOT / "bench" / "load" / "last-gunicorn.log")
            raise SystemExit("errors during the load run (gunicorn log: bench/load/)")


if __name__ == "__main__":
    main()
