"""Benchmark: verification throughput and latency of a COA and of an MMS, and MMS growth.

Run: ``python bench/bench_verify.py [--seconds 3] [--http]``. Not a test: one process.

Credentials are sijil's shapes (docs/ARCHITECTURE.md) built by ``tests/verifier_fixtures.py``:
a COA with a revocation entry, and MMSs stacking 1, 2, 5, 10 and 20 COAs (each COA with its
own status entry on one shared list). The issuer is a did:key (resolved locally) and the
status list is served by a real local HTTP server; keys and the status list are cached
after the first verification (warm-up not timed), as in a long-running verifier.

Reported:
- in-process ``Verifier.verify``: operations per second, p50 and p99 latency, for the COA
  and for the MMS stacking 5 COAs;
- MMS verify time against the number of stacked COAs (each COA is a full verification:
  proof, status, schema), so growth is about linear;
- CPU milliseconds per operation (this thread's CPU time), which the other jobs on a shared
  machine disturb much less than wall-clock latency;
- ``--cold``: the canonicalization cache emptied before every call, as for a verifier that
  never sees the same credential twice (the default, warm, is a verifier asked again about
  a credential it has seen: repeated checks by employers, wallets refreshing);
- with ``--http``: the same two through the verifier's web app (``POST /credentials/verify``
  over a real local HTTP connection, werkzeug threaded server in this process).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from speedups import disable  # noqa: E402
from verifier_fixtures import (  # noqa: E402
    Learner,
    build_mms,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
)
from verifier_trust import trust_file, trust_for  # noqa: E402

from contexts.jsonld import clear_canonical_cache  # noqa: E402
from keys.fetch import SafeFetcher  # noqa: E402
from keys.resolve import Resolver  # noqa: E402
from verifier.report import Verifier  # noqa: E402
from verifier.status import StatusListClient  # noqa: E402

AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(5)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt-aisyah")


class _StatusServer(ThreadingHTTPServer):
    daemon_threads = True
    body: bytes = b""


class _Handler(BaseHTTPRequestHandler):
    server: _StatusServer

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vc+ld+json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _coas(count: int, url: str) -> list[dict[str, Any]]:
    return [
        coa_for(
            ISSUER,
            LEARNER,
            f"BM{i:03d}",
            f"Benchmark Unit {i}",
            serial=i + 1,
            status=[status_entry(url, 1000 + i)],
        )
        for i in range(count)
    ]


def _mms(count: int, url: str) -> dict[str, Any]:
    signed: dict[str, Any] = sign(build_mms(ISSUER, LEARNER, _coas(count, url)), ISSUER)
    return signed


COLD = False


def _measure(fn: Callable[[], None], seconds: float) -> tuple[float, float, float, int, float]:
    """(ops/s, p50 ms, p99 ms, n, CPU ms per op) over ``seconds`` after one untimed warm-up.

    With ``--cold`` the canonicalization cache is emptied before every call (untimed), as
    for a verifier that never sees the same credential twice.
    """
    fn()
    samples: list[float] = []
    cpu = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        if COLD:
            clear_canonical_cache()
        cpu_start = time.thread_time()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
        cpu += time.thread_time() - cpu_start
    n = len(samples)
    samples.sort()
    p99 = samples[min(n - 1, int(n * 0.99))]
    return n / sum(samples), statistics.median(samples) * 1e3, p99 * 1e3, n, cpu / n * 1e3


def _row(label: str, result: tuple[float, float, float, int, float], cpu_too: bool = True) -> None:
    ops, p50, p99, n, cpu = result
    line = f"{label:<42} {ops:9.1f} ops/s   p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   "
    if cpu_too:  # over HTTP the work is in the server's threads, not the measuring one
        line += f"CPU {cpu:7.2f} ms/op = {1e3 / cpu:7.1f}/CPU s   "
    print(line + f"(n={n})")


def _in_process(verifier: Verifier, doc: dict[str, Any]) -> Callable[[], None]:
    def run() -> None:
        report = verifier.verify(doc, at=AT)
        if not report.verified:
            raise SystemExit(f"benchmark credential did not verify: {report.error_codes}")

    return run


def _over_http(port: int, doc: dict[str, Any]) -> Callable[[], None]:
    body = json.dumps({"verifiableCredential": doc, "options": {}}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def run() -> None:
        connection.request(
            "POST", "/credentials/verify", body, {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"HTTP verify answered {response.status}")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--http", action="store_true", help="also measure over HTTP")
    parser.add_argument(
        "--cold", action="store_true", help="empty the canonicalization cache before each call"
    )
    parser.add_argument(
        "--reference", action="store_true", help="speed-ups off (bench/speedups.py): 'before'"
    )
    parser.add_argument("--sizes", default="1,5,10,20,50", help="MMS sizes (COAs) for growth")
    args = parser.parse_args()
    global COLD
    COLD = args.cold
    if args.reference:
        disable()

    server = _StatusServer(("127.0.0.1", 0), _Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/status/1"
    server.body = json.dumps(status_list(ISSUER, url)).encode()
    threading.Thread(target=server.serve_forever, daemon=True).start()

    fetcher = SafeFetcher(allow_local=True)
    resolver = Resolver(fetcher)
    verifier = Verifier(
        resolver=resolver,
        fetcher=fetcher,
        status_client=StatusListClient(fetcher, resolver),
        trust=trust_for(ISSUER),
    )
    coa = _coas(1, url)[0]
    mms5 = _mms(5, url)

    mode = "cold: canonicalization cache emptied before each call" if COLD else "warm"
    mode += ", speed-ups OFF (reference)" if args.reference else ""
    print(f"sijil verifier benchmark, {args.seconds:g} s per row, keys and status list cached")
    print(f"mode: {mode}; load average {os.getloadavg()[0]:.1f}")
    _row("in-process: COA", _measure(_in_process(verifier, coa), args.seconds))
    _row("in-process: MMS stacking 5 COAs", _measure(_in_process(verifier, mms5), args.seconds))

    print("\nMMS verify time by number of stacked COAs (in-process):")
    base: float | None = None
    for count in (int(size) for size in args.sizes.split(",")):
        _ops, p50, p99, _n, cpu = _measure(_in_process(verifier, _mms(count, url)), args.seconds)
        base = base or p50
        print(
            f"  {count:3d} COAs: p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  CPU {cpu:8.2f} ms  "
            f"({p50 / base:5.1f}x of 1 COA)"
        )

    if args.http:
        os.environ["SIJIL_ALLOW_LOCAL_FETCH"] = "1"
        os.environ["SIJIL_RATE_LIMITS_ENABLED"] = "0"  # one client asks many times
        trust_dir = tempfile.TemporaryDirectory(prefix="sijil-bench-trust-")
        os.environ["SIJIL_TRUST_FILE"] = str(trust_file(Path(trust_dir.name), ISSUER))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        from werkzeug.serving import make_server

        from verifier.web import create_app

        web = make_server("127.0.0.1", 0, create_app(), threaded=True)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        print("\nover HTTP (POST /credentials/verify, keep-alive, one client):")
        _row("http: COA", _measure(_over_http(web.server_port, coa), args.seconds), False)
        _row(
            "http: MMS stacking 5 COAs",
            _measure(_over_http(web.server_port, mms5), args.seconds),
            False,
        )
        web.shutdown()
        trust_dir.cleanup()
    server.shutdown()


if __name__ == "__main__":
    main()
