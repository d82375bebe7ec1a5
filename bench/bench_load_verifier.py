"""Load benchmark: the verifier under gunicorn, driven from a second client (not a test).

Open loop (default; the service-level goal "p99 under 50 ms at 200 req/s"):

    .venv/bin/python bench/bench_load_verifier.py [--rates 200,400,1000] \\
        [--models sync,gthread:1,gthread:4] [--coas warm,cold,mixed] [--workers 2] \\
        [--duration 30] [--warmup 5] [--connections 16] [--status local|none] [--json OUT]

Closed loop with wrk (saturation throughput; the client sends as fast as it is answered):

    .venv/bin/python bench/bench_load_verifier.py --client wrk [--duration 60] \\
        [--workers 2,4] [--connections 16,64] [--scenarios verify,page]

The server is the verifier's production setup: ``gunicorn -c deploy/gunicorn/verifier.py
verifier.web.wsgi:app`` (falling back to ``verifier.web:create_app()`` and plain flags when those
files do not exist) with ``-b 127.0.0.1:<free port> -w <workers>``. A *model* names the worker
and thread setup: ``default`` is the config file as it stands, ``gthread:N`` sets
``SIJIL_THREADS=N`` (gthread workers, N threads each), ``sync`` adds ``-k sync --threads 1`` on
the command line (gunicorn's command line overrides the config file).

Open-loop runs (``bench/openloop.py``) send ``POST /credentials/verify`` with
``{"verifiableCredential": COA, "options": {}}`` at a fixed rate whatever the server does,
over ``--connections`` keep-alive connections (a reverse proxy's upstream pool), and time each
request from when it was due (no coordinated omission). Every (model, COAs, rate) run gets a
fresh gunicorn, so no run inherits another's caches:

- ``warm``: the same COA every request (the verifier's canonicalization cache answers).
- ``cold``: a different COA every request, pre-signed before the runs (``--pool`` of them,
  enough for the largest counted run by default), so no request finds its credential cached.
- ``mixed``: as ``cold``, but every 100th request is a distinct MMS stacking 20 distinct COAs
  (~40x a COA's work); latencies are also given per request type. This is where the thread
  model shows: with one thread a COA that lands behind an MMS waits for all of it.

Rates above the server's capacity show the saturation throughput (the "answered/s" column);
their latencies only show a growing queue. Below saturation, answered/s equals the rate.

The COAs are real sijil COAs signed (eddsa-rdfc-2022) by a did:key issuer with the test
fixtures' code (``tests/verifier_fixtures.py``), so resolving the key needs no network. With
``--status local`` (default) each carries a revocation entry on a status list this bench
serves itself on loopback (``SIJIL_ALLOW_LOCAL_FETCH=1`` for the verifier; each worker fetches
it once, then caches it as in production); with ``--status none`` no ``credentialStatus``. Only
a 200 (verified) counts as success: a 422 (not verified) is an error.

wrk runs (``--client wrk``, 2 threads, ``--latency``) add ``page``: ``GET /``, the verifier's
human page. Errors reported: wrk's socket errors and responses that are not 2xx/3xx, the
open-loop client's failed or unanswered requests, plus gunicorn worker timeouts/tracebacks
found in its log; all must be 0.

The verifier's per-client rate limits are switched off for the run through the environment
(``SIJIL_RATE_LIMITS_ENABLED=0``): every request comes from 127.0.0.1, so a production limiter
would cap the load at one client's quota. The figures are for the service itself. The client
runs on the same machine and takes CPU from the server; the open-loop client prints its share.

Loopback only, bounded in time; every process started here (gunicorn, wrk) is stopped on exit,
on Ctrl-C and on errors. ``--client wrk`` needs ``wrk`` on ``PATH`` (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from openloop import OpenLoopResult, http_request, run_open_loop  # noqa: E402
from verifier_fixtures import (  # noqa: E402
    Learner,
    build_mms,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
)
from verifier_trust import trust_file  # noqa: E402

__all__ = ["LoadResult", "OpenLoopRow", "main"]

LUA = ROOT / "bench" / "load" / "scenario.lua"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn" / "verifier.py"
WSGI_MODULE = ROOT / "verifier" / "web" / "wsgi.py"
VERIFY_PATH = "/credentials/verify"
ISSUER = key_from_seed(7)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt-aisyah")
#: Environment that keeps the per-client rate limiter from capping a one-client load test.
NO_RATE_LIMITS = {"SIJIL_RATE_LIMITS_ENABLED": "0"}
#: Seconds the open-loop client waits for answers after its schedule (a saturated server's
#: backlog is reported as unanswered, not waited for).
DRAIN_SECONDS = 10.0
#: ``mixed`` runs: every MIX_EVERY-th request verifies an MMS stacking MMS_SIZE COAs.
MIX_EVERY = 100
MMS_SIZE = 20
#: Status-list index every bench COA uses (not revoked).
STATUS_INDEX = 4242


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


@dataclass
class OpenLoopRow:
    """One open-loop run: the server setup and what the client measured."""

    coas: str
    model: str
    workers: int
    distinct_coas: int
    server_cpu_s: float
    """CPU time of gunicorn (master and workers) during the run, warm-up included."""
    server_cpu_ms_per_request: float
    result: OpenLoopResult


@dataclass(frozen=True)
class Model:
    """A gunicorn worker/thread setup: extra command-line flags and environment."""

    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Model:
        """``default``, ``sync`` or ``gthread:N``."""
        if text == "default":
            return cls(text, (), ())
        if text == "sync":
            return cls(text, ("-k", "sync", "--threads", "1"), ())
        kind, _, threads = text.partition(":")
        if kind == "gthread" and threads.isdigit() and int(threads) >= 1:
            return cls(text, (), (("SIJIL_THREADS", threads),))
        raise SystemExit(f"unknown model {text!r}: default, sync or gthread:N")


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


def _gunicorn_command(port: int, workers: int, extra: Sequence[str] = ()) -> list[str]:
    found = Path(sys.executable).parent / "gunicorn"
    exe = str(found) if found.exists() else shutil.which("gunicorn")
    if exe is None:
        raise SystemExit("gunicorn not found: pip install gunicorn (it is in pyproject.toml)")
    app = "verifier.web.wsgi:app" if WSGI_MODULE.exists() else "verifier.web:create_app()"
    cmd = [exe]
    if GUNICORN_CONFIG.exists():
        cmd += ["-c", str(GUNICORN_CONFIG)]
    return [*cmd, "-b", f"127.0.0.1:{port}", "-w", str(workers), *extra, app]


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
def _gunicorn(
    port: int, workers: int, env: dict[str, str], log: Path, extra: Sequence[str] = ()
) -> Iterator[tuple[list[str], int]]:
    """Start gunicorn, wait for ``/healthz``; yield its command line and the master's pid."""
    cmd = _gunicorn_command(port, workers, extra)
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
        yield cmd, proc.pid
    finally:
        _stop(proc)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid``, of the children it reaped and of its live descendants (Linux).

    gunicorn's master reaps the workers it recycles, so their time is in its ``cutime``.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    except OSError:
        return 0.0  # gone, or not Linux
    fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": field 3 (state) is index 0
    own = sum(int(value) for value in fields[11:15]) / _CLOCK_TICKS  # utime stime cutime cstime
    return own + sum(_process_tree_cpu(int(child)) for child in children.split())


def _check_once(port: int, body: bytes) -> None:
    status, raw = _request(port, "POST", VERIFY_PATH, body)
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


def _open_loop_table(rows: list[OpenLoopRow]) -> str:
    lines = [
        "| COAs | model | workers | rate | answered/s | p50 | p90 | p99 | p99.9 | max | errors "
        "| server CPU per request | client CPU | load avg before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r, lat = row.result, row.result.latency
        answered = f"{r.throughput:,.1f}" + (" (saturated)" if r.saturated else "")
        lines.append(
            f"| {row.coas} | {row.model} | {row.workers} | {r.rate:g} | {answered} "
            f"| {lat.p50_ms:.1f} ms | {lat.p90_ms:.1f} ms | {lat.p99_ms:.1f} ms "
            f"| {lat.p999_ms:.1f} ms | {lat.max_ms:.0f} ms | {r.error_count} "
            f"| {row.server_cpu_ms_per_request:.2f} ms | {r.client_cpu_share * 100:.0f}% "
            f"| {r.load_before:.2f} -> {r.load_after:.2f} |"
        )
    return "\n".join(lines)


def _by_label_table(rows: list[OpenLoopRow]) -> str:
    lines = [
        "| COAs | model | workers | rate | request | answered | p50 | p90 | p99 | p99.9 | max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for label, lat in sorted(row.result.by_label.items()):
            lines.append(
                f"| {row.coas} | {row.model} | {row.workers} | {row.result.rate:g} | {label} "
                f"| {lat.count:,} | {lat.p50_ms:.1f} ms | {lat.p90_ms:.1f} ms "
                f"| {lat.p99_ms:.1f} ms | {lat.p999_ms:.1f} ms | {lat.max_ms:.0f} ms |"
            )
    return "\n".join(lines)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # run the clean-up of every context manager


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _verify_body(coa: dict[str, Any]) -> bytes:
    return json.dumps({"verifiableCredential": coa, "options": {}}).encode()


_POOL_STATUS: list[dict[str, Any]] | None = None


def _pool_init(status: list[dict[str, Any]] | None) -> None:
    global _POOL_STATUS
    _POOL_STATUS = status
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool ends its workers with SIGTERM


def _cold_body(serial: int) -> bytes:
    """The verify request body of COA number ``serial`` (distinct id, so distinct content)."""
    coa = coa_for(ISSUER, LEARNER, "LD101", "Load Testing", serial=serial, status=_POOL_STATUS)
    return _verify_body(coa)


def _mms_body(number: int) -> bytes:
    """The verify request body of MMS number ``number``: its own ``MMS_SIZE`` distinct COAs."""
    coas = [
        coa_for(
            ISSUER,
            LEARNER,
            f"BM{j:03d}",
            f"Benchmark Unit {j}",
            serial=1_000_000 + number * 100 + j,
            status=_POOL_STATUS,
        )
        for j in range(MMS_SIZE)
    ]
    return _verify_body(sign(build_mms(ISSUER, LEARNER, coas, status=_POOL_STATUS), ISSUER))


def _cold_bodies(
    count: int, status: list[dict[str, Any]] | None, *, mms: bool = False
) -> list[bytes]:
    """``count`` distinct signed COAs (or MMSs), signed on every core."""
    context = multiprocessing.get_context("fork")
    with context.Pool(os.cpu_count() or 1, _pool_init, (status,)) as pool:
        if mms:
            return pool.map(_mms_body, range(count), chunksize=1)
        return pool.map(_cold_body, range(1_000, 1_000 + count), chunksize=64)


def _run_wrk_client(
    args: argparse.Namespace,
    env: dict[str, str],
    tmp: Path,
    body: bytes,
) -> tuple[list[LoadResult], Path]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found: install it (Debian/Ubuntu: apt-get install wrk)")
    scenarios = _items(args.scenarios)
    unknown = set(scenarios) - {"verify", "page"}
    if unknown:
        raise SystemExit(f"unknown scenarios: {sorted(unknown)}")
    body_file = tmp / "verify-body.json"
    body_file.write_bytes(body)
    gunicorn_log = tmp / "gunicorn.log"
    wrk_log = tmp / "wrk.log"
    results: list[LoadResult] = []
    for workers in _ints(args.workers):
        port = _free_port()
        with _gunicorn(port, workers, env, gunicorn_log) as (cmd, _):
            print(f"$ {' '.join(cmd)}")
            _check_once(port, body)
            for connections in _ints(args.connections):
                for scenario in scenarios:
                    if scenario == "verify":
                        url = f"http://127.0.0.1:{port}{VERIFY_PATH}"
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
                        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
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
    print()
    print(_table(results))
    return results, gunicorn_log


def _run_open_loop_client(
    args: argparse.Namespace,
    env: dict[str, str],
    tmp: Path,
    body: bytes,
    status: list[dict[str, Any]] | None,
) -> tuple[list[OpenLoopRow], Path]:
    models = [Model.parse(text) for text in _items(args.models)]
    coa_kinds = _items(args.coas)
    if set(coa_kinds) - {"warm", "cold", "mixed"}:
        raise SystemExit("--coas takes warm and/or cold")
    rates = [float(rate) for rate in _items(args.rates)]
    counts = _ints(args.connections)
    if len(counts) != 1:
        raise SystemExit("the open-loop client takes one --connections value")
    connections = counts[0]
    cold: list[bytes] = []
    mixed: list[bytes] = []
    mixed_labels: list[str] = []
    mms_check = b""
    if "cold" in coa_kinds or "mixed" in coa_kinds:
        # Enough for every counted answer of the largest run below ~500/s (a saturated run
        # answers at most its capacity; a smaller --pool repeats COAs and says so).
        count = args.pool or math.ceil(min(max(rates), 500) * (args.warmup + args.duration))
        started = time.monotonic()
        cold = _cold_bodies(count, status)
        print(f"signed {len(cold):,} distinct COAs in {time.monotonic() - started:.1f} s")
    if "mixed" in coa_kinds:
        started = time.monotonic()
        mms = _cold_bodies(len(cold) // MIX_EVERY + 1, status, mms=True)
        mms_check = mms.pop()  # checked once per server, never sent under load
        for i, coa_body in enumerate(cold):
            is_mms = i % MIX_EVERY == MIX_EVERY - 1
            mixed.append(mms[i // MIX_EVERY] if is_mms else coa_body)
            mixed_labels.append(f"MMS-{MMS_SIZE}" if is_mms else "COA")
        print(
            f"signed {len(mms) + 1:,} distinct MMSs of {MMS_SIZE} COAs each in "
            f"{time.monotonic() - started:.1f} s"
        )
    gunicorn_log = tmp / "gunicorn.log"
    rows: list[OpenLoopRow] = []
    # Models innermost: the machine's other load drifts, so the runs compared sit side by side.
    runs = [
        (kind, rate, workers, model)
        for kind in coa_kinds
        for rate in rates
        for workers in _ints(args.workers)
        for model in models
    ]
    for kind, rate, workers, model in runs:
        bodies = {"warm": [body], "cold": cold, "mixed": mixed}[kind]
        port = _free_port()
        model_env = {**env, **dict(model.env)}
        with _gunicorn(port, workers, model_env, gunicorn_log, model.args) as (cmd, master):
            if not rows:
                print(f"$ {' '.join(cmd)}")
            _check_once(port, body)
            if kind == "mixed":
                _check_once(port, mms_check)
            host = f"127.0.0.1:{port}"
            requests = [http_request("POST", host, VERIFY_PATH, b) for b in bodies]
            cpu_before = _process_tree_cpu(master)
            result = run_open_loop(
                "127.0.0.1",
                port,
                requests,
                rate=rate,
                duration=args.duration,
                warmup=args.warmup,
                connections=connections,
                drain=DRAIN_SECONDS,
                labels=mixed_labels if kind == "mixed" else None,
            )
            server_cpu = _process_tree_cpu(master) - cpu_before
        sent = result.scheduled - result.unanswered
        row = OpenLoopRow(
            coas=kind,
            model=model.name,
            workers=workers,
            distinct_coas=len(bodies),
            server_cpu_s=server_cpu,
            server_cpu_ms_per_request=server_cpu * 1000 / max(1, sent),
            result=result,
        )
        rows.append(row)
        repeats = kind == "cold" and sent > len(bodies)
        print(
            f"  {kind:<4} {model.name:<10} w={workers} {result.summary()}  "
            f"server CPU {row.server_cpu_ms_per_request:.2f} ms/request"
            + ("  (pool smaller than the run: some COAs repeat)" if repeats else ""),
            flush=True,
        )
    print()
    print(_open_loop_table(rows))
    if any(row.result.by_label for row in rows):
        print()
        print(_by_label_table(rows))
    return rows, gunicorn_log


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--client", choices=("openloop", "wrk"), default="openloop")
    parser.add_argument("--duration", type=int, help="counted seconds per run (30; wrk: 60)")
    parser.add_argument("--workers", default=None, help="gunicorn worker counts (2; wrk: 2,4)")
    parser.add_argument(
        "--connections", default=None, help="connections (open loop: 16; wrk: 16,64)"
    )
    parser.add_argument("--status", choices=("local", "none"), default="local")
    parser.add_argument("--json", type=Path, help="also write the results here")
    open_loop = parser.add_argument_group("open loop")
    open_loop.add_argument("--rates", default="200,400", help="requests per second")
    open_loop.add_argument(
        "--models", default="sync,gthread:1,gthread:4", help="default, sync, gthread:N"
    )
    open_loop.add_argument(
        "--coas", default="warm,cold", help="warm (one COA), cold (distinct), mixed (+ MMSs)"
    )
    open_loop.add_argument("--warmup", type=float, default=5.0, help="seconds sent, not counted")
    open_loop.add_argument("--pool", type=int, default=0, help="distinct COAs for cold runs")
    closed = parser.add_argument_group("wrk")
    closed.add_argument("--scenarios", default="verify,page")
    args = parser.parse_args()
    wrk_mode = args.client == "wrk"
    if args.duration is None:
        args.duration = 60 if wrk_mode else 30
    if args.workers is None:
        args.workers = "2,4" if wrk_mode else "2"
    if args.connections is None:
        args.connections = "16,64" if wrk_mode else "16"
    signal.signal(signal.SIGTERM, _on_sigterm)

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
            status = [status_entry(list_url, STATUS_INDEX)]
            env["SIJIL_ALLOW_LOCAL_FETCH"] = "1"
        coa = coa_for(ISSUER, LEARNER, "LD101", "Load Testing", serial=1, status=status)
        # The verifier answers "valid" (200) only for a recognised issuer.
        env["SIJIL_TRUST_FILE"] = str(trust_file(tmp, ISSUER))
        body = _verify_body(coa)
        print(
            f"verifier load ({args.client}): {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.2f}; COA {len(body)} bytes, status: {args.status}; "
            f"{args.duration} s per run"
        )
        figures: list[dict[str, Any]]
        if wrk_mode:
            results, gunicorn_log = _run_wrk_client(args, env, tmp, body)
            total = sum(r.errors for r in results)
            figures = [asdict(r) for r in results]
        else:
            rows, gunicorn_log = _run_open_loop_client(args, env, tmp, body, status)
            # A saturated run leaves a backlog (unanswered); below saturation nothing may be left.
            total = sum(
                row.result.error_count + (0 if row.result.saturated else row.result.unanswered)
                for row in rows
            )
            figures = [asdict(row) for row in rows]
        problems = _log_problems(gunicorn_log) if gunicorn_log.exists() else 0
        hits = server.hits if server is not None else 0
        print(
            f"\nerrors: {total} from the client; {problems} worker timeouts/tracebacks in the "
            f"gunicorn log; status list fetched {hits} times (cached per worker)"
        )
        if args.json is not None:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        if total or problems:
            shutil.copy(gunicorn_log, ROOT / "bench" / "load" / "last-gunicorn.log")
            raise SystemExit("errors during the load run (gunicorn log: bench/load/)")


if __name__ == "__main__":
    main()
