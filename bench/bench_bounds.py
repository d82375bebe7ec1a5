"""Bounded work per verification, measured (a benchmark, not a test).

    .venv/bin/python bench/bench_bounds.py [--duration 20] [--skip-gunicorn] [--json OUT]

1. **Canonicalization bombs, one process**: CPU seconds (``time.process_time``) of
   ``verify_credential`` for a complete graph of n blank nodes under a bogus did:key proof
   (n = 5, 7, 8, 20), and of a normal MMS embedding 50 COAs.
2. **Under gunicorn** (``deploy/gunicorn/verifier.py``, its default workers and threads):
   the latency of a normal ``POST /credentials/verify`` alone, then while five clients send
   n = 7 / n = 8 attacks back to back (``POST /credentials/verify`` and ``GET /verify?c=``),
   for ``--duration`` seconds. The attacks' own answers (status, code) are counted.
3. **Fetches**: wall time and fetch count of one verification with 1,000 status entries,
   and with 4 status lists on a host that accepts connections and never answers (the
   default limits: 5 s per fetch, 10 s per verification).
4. **Memory**: in a child process, ``ru_maxrss`` before and after verifying 50 credentials
   whose did:web documents are 2 MiB each (served over local HTTPS), with the 64 KiB cap and,
   for comparison, with the cap raised to 4 MiB.

Loopback only; every process and server started here is stopped on exit. Rate limits are
switched off for the gunicorn run (all requests come from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_bounds_fetch import SilentServer  # noqa: E402
from test_bounds_memory import _CHILD  # noqa: E402
from test_bounds_rdfc import complete_graph_credential  # noqa: E402
from verifier_fixtures import (  # noqa: E402
    Learner,
    build_coa,
    build_mms,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
)

from keys.fetch import SafeFetcher  # noqa: E402
from keys.resolve import Resolver  # noqa: E402
from verifier.fetchers import MappingFetcher  # noqa: E402
from verifier.links import pack_credential  # noqa: E402
from verifier.report import Verifier, verify_credential  # noqa: E402
from verifier.status import StatusListClient  # noqa: E402

GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn" / "verifier.py"
KEY = key_from_seed(3)
LEARNER = Learner("Aminah binti Ali", "aminah@example.com", "salt-1")


def _cpu(fn: Any) -> tuple[float, Any]:
    start = time.process_time()
    result = fn()
    return time.process_time() - start, result


def bench_canonicalization() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in (5, 7, 8, 20):
        doc = complete_graph_credential(n)
        seconds, report = _cpu(lambda doc=doc: verify_credential(doc, resolver=Resolver()))
        out[f"complete_graph_{n}"] = {
            "cpu_s": round(seconds, 3),
            "codes": list(report.checks["proof"].codes),
        }
    coas = [coa_for(KEY, LEARNER, f"C{i:03d}", f"Course {i}", serial=i + 1) for i in range(50)]
    mms = sign(build_mms(KEY, LEARNER, coas), KEY)
    seconds, report = _cpu(lambda: verify_credential(mms, resolver=Resolver(), check_status=False))
    out["mms_50_coas"] = {"cpu_s": round(seconds, 3), "proof": report.checks["proof"].status}
    return out


# --- gunicorn -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = 120
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def _gunicorn(port: int, env: dict[str, str], log: Path) -> Iterator[None]:
    exe = Path(sys.executable).parent / "gunicorn"
    cmd = [str(exe), "-c", str(GUNICORN_CONFIG), "verifier.web.wsgi:app"]
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**env, "SIJIL_BIND": f"127.0.0.1:{port}"},
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
                if _request(port, "GET", "/healthz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer within 60 s; see {log}")
            time.sleep(0.2)
        yield
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _latencies(port: int, body: bytes, count: int) -> list[float]:
    out: list[float] = []
    for _ in range(count):
        start = time.perf_counter()
        status, _raw = _request(port, "POST", "/credentials/verify", body)
        out.append(time.perf_counter() - start)
        if status >= 500:
            raise SystemExit(f"normal verification answered {status}")
    return out


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(values),
        "p50_s": round(statistics.median(ordered), 3),
        "p90_s": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "max_s": round(ordered[-1], 3),
    }


def bench_gunicorn(duration: float) -> dict[str, Any]:
    coa = coa_for(KEY, LEARNER, "LD101", "Load Testing", serial=1)
    normal = json.dumps({"verifiableCredential": coa}).encode()
    attacks = {n: complete_graph_credential(n) for n in (7, 8)}
    bodies = {n: json.dumps({"verifiableCredential": doc}).encode() for n, doc in attacks.items()}
    links = {n: "/verify?c=" + pack_credential(doc) for n, doc in attacks.items()}
    env = dict(os.environ)
    env.update(
        {
            "SIJIL_RATE_LIMITS_ENABLED": "0",
            "SIJIL_TRUST_ANY_ISSUER": "1",
            "SIJIL_LOG_LEVEL": "WARNING",
        }
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sijil-bounds-") as tmp:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(Path(tmp) / "metrics")
        port = _free_port()
        with _gunicorn(port, env, Path(tmp) / "gunicorn.log"):
            _latencies(port, normal, 3)  # warm every worker's caches a little
            results["normal_alone"] = _summary(_latencies(port, normal, 30))
            stop = threading.Event()
            answers: Counter[str] = Counter()
            attack_times: list[float] = []
            lock = threading.Lock()

            def attacker(index: int) -> None:
                n = 7 if index % 2 else 8
                turn = 0
                while not stop.is_set():
                    start = time.perf_counter()
                    if turn % 2:
                        status, raw = _request(port, "GET", links[n])
                        code = (
                            "CANONICALIZATION_LIMIT_EXCEEDED" if b"CANONICALIZATION" in raw else "?"
                        )
                    else:
                        status, raw = _request(port, "POST", "/credentials/verify", bodies[n])
                        code = (
                            "CANONICALIZATION_LIMIT_EXCEEDED" if b"CANONICALIZATION" in raw else "?"
                        )
                    with lock:
                        attack_times.append(time.perf_counter() - start)
                        answers[f"{status} {code}"] += 1
                    turn += 1

            threads = [threading.Thread(target=attacker, args=(i,)) for i in range(5)]
            for thread in threads:
                thread.start()
            during: list[float] = []
            end = time.monotonic() + duration
            while time.monotonic() < end:
                during.extend(_latencies(port, normal, 1))
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
            results["normal_during_5_attackers"] = _summary(during)
            results["attacks"] = _summary(attack_times)
            results["attack_answers"] = dict(answers)
    return results


# --- fetches and memory ---------------------------------------------------------------------


def bench_fetches() -> dict[str, Any]:
    out: dict[str, Any] = {}
    entries = [status_entry(f"https://registry.example.edu.my/status/{i}", i) for i in range(1000)]
    doc = sign(build_coa(KEY, LEARNER, "DS601", "Data Ethics", serial=3, status=entries), KEY)
    fetcher = MappingFetcher({})
    start = time.perf_counter()
    report = Verifier(fetcher=fetcher, resolver=Resolver(fetcher)).verify(doc, check_schema=False)
    out["status_entries_1000"] = {
        "wall_s": round(time.perf_counter() - start, 3),
        "fetches": len(fetcher.requests),
        "codes": list(report.checks["status"].codes),
    }
    with SilentServer() as silent:
        entries = [status_entry(silent.url(f"/list/{i}"), i) for i in range(4)]
        doc = sign(build_coa(KEY, LEARNER, "DS601", "Data Ethics", serial=4, status=entries), KEY)
        safe = SafeFetcher(allow_local=True)
        resolver = Resolver(safe)
        verifier = Verifier(
            fetcher=safe, resolver=resolver, status_client=StatusListClient(safe, resolver)
        )
        start = time.perf_counter()
        report = verifier.verify(doc, check_schema=False)
        out["never_answering_host_4_lists"] = {
            "wall_s": round(time.perf_counter() - start, 3),
            "connections": silent.accepted,
            "causes": [e.get("cause", e["code"]) for e in report.errors if e["check"] == "status"],
        }
    return out


def bench_memory(raise_cap: bool) -> dict[str, Any]:
    child = _CHILD
    if raise_cap:
        child = child.replace(
            "verifier = Verifier(fetcher=fetcher)",
            "from keys.resolve import Resolver\n"
            "    verifier = Verifier(fetcher=fetcher, "
            "resolver=Resolver(fetcher, max_document_bytes=4 << 20))",
        )
    with tempfile.TemporaryDirectory(prefix="sijil-rss-") as tmp:
        out = subprocess.run(
            [sys.executable, "-c", child, str(ROOT / "tests"), str(Path(tmp) / "tls")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["growth_mib"] = round((figures["after_kib"] - figures["before_kib"]) / 1024, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--skip-gunicorn", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
        "canonicalization": bench_canonicalization(),
        "fetches": bench_fetches(),
        "memory_64kib_cap": bench_memory(raise_cap=False),
        "memory_4mib_cap": bench_memory(raise_cap=True),
    }
    if not args.skip_gunicorn:
        results["gunicorn"] = bench_gunicorn(args.duration)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
