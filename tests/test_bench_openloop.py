"""The open-loop load generator of the benchmarks (``bench/openloop.py``) against a real server.

What is checked is the bookkeeping, never a speed: every due request is sent once, requests
are taken round-robin, warm-up requests are sent but not counted, keep-alive connections are
reused and ``Connection: close`` answers reopened, and unexpected answers are counted as errors.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from openloop import Latencies, http_request, percentile, run_open_loop


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, keep_alive: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keep_alive = keep_alive
        self.bodies: Counter[bytes] = Counter()
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.protocol_version = "HTTP/1.1" if self.server.keep_alive else "HTTP/1.0"
        super().setup()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.bodies[body] += 1
        answer = b'{"verified": false}' if body == b"reject" else b'{"verified": true}'
        self.send_response(422 if body == b"reject" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def _serve(keep_alive: bool = True) -> Iterator[_Server]:
    server = _Server(keep_alive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _requests(port: int, bodies: list[bytes]) -> list[bytes]:
    return [http_request("POST", f"127.0.0.1:{port}", "/verify", body) for body in bodies]


def test_every_due_request_is_sent_once_round_robin() -> None:
    bodies = [b"a", b"b", b"c"]
    with _serve() as server:
        port = server.server_address[1]
        result = run_open_loop(
            "127.0.0.1", port, _requests(port, bodies), rate=120, duration=0.5, warmup=0.25
        )
        sent = dict(server.bodies)
    assert result.scheduled == 90  # 120/s for 0.75 s
    assert result.counted == 60  # the warm-up's 30 are sent, not counted
    assert result.ok == 60
    assert result.latency.count == 60
    assert result.errors == {}
    assert result.unanswered == 0
    assert sent == {b"a": 30, b"b": 30, b"c": 30}


def test_labelled_requests_get_their_own_latencies() -> None:
    with _serve() as server:
        port = server.server_address[1]
        result = run_open_loop(
            "127.0.0.1",
            port,
            _requests(port, [b"small", b"small", b"small", b"large"]),
            rate=100,
            duration=0.4,
            labels=["COA", "COA", "COA", "MMS"],
        )
    assert {label: lat.count for label, lat in result.by_label.items()} == {"COA": 30, "MMS": 10}
    with pytest.raises(ValueError, match="parallel"):
        run_open_loop("127.0.0.1", port, [b"x"], rate=10, duration=1, labels=["a", "b"])


def test_keep_alive_connections_are_reused() -> None:
    with _serve(keep_alive=True) as server:
        port = server.server_address[1]
        result = run_open_loop(
            "127.0.0.1", port, _requests(port, [b"x"]), rate=100, duration=0.5, connections=4
        )
    assert result.ok == 50
    assert 1 <= result.connects <= 4


def test_a_closing_server_gets_a_new_connection_per_request() -> None:
    with _serve(keep_alive=False) as server:
        port = server.server_address[1]
        result = run_open_loop(
            "127.0.0.1", port, _requests(port, [b"x"]), rate=100, duration=0.3, connections=2
        )
    assert result.ok == 30
    assert result.errors == {}
    assert result.connects == 30


def test_unexpected_answers_are_errors_not_latencies() -> None:
    with _serve() as server:
        port = server.server_address[1]
        result = run_open_loop(
            "127.0.0.1", port, _requests(port, [b"ok", b"reject"]), rate=100, duration=0.4
        )
    assert result.errors == {"status 422": 20}
    assert result.ok == 20
    assert result.latency.count == 20


def test_a_refused_connection_is_a_connection_error() -> None:
    with _serve() as server:
        port = server.server_address[1]
    result = run_open_loop(
        "127.0.0.1", port, _requests(port, [b"x"]), rate=50, duration=0.2, connections=2
    )
    assert result.errors == {"connection": 10}
    assert result.ok == 0


def test_nonsense_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        run_open_loop("127.0.0.1", 1, [b"x"], rate=0, duration=1)
    with pytest.raises(ValueError, match="must be positive"):
        run_open_loop("127.0.0.1", 1, [], rate=10, duration=1)


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 1001)]  # 1 .. 1000
    assert percentile(ordered, 50) == 500.0
    assert percentile(ordered, 99) == 990.0
    assert percentile(ordered, 99.9) == 999.0
    assert percentile(ordered, 100) == 1000.0
    assert percentile([], 99) == 0.0
    summary = Latencies.of([0.001, 0.003, 0.002])
    assert (summary.count, summary.p50_ms, summary.max_ms) == (3, 2.0, 3.0)


def test_requests_are_plain_http_1_1() -> None:
    raw = http_request("POST", "127.0.0.1:8081", "/credentials/verify", b"{}")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /credentials/verify HTTP/1.1"
    assert b"Content-Length: 2" in head.split(b"\r\n")
    assert body == b"{}"
    assert http_request("GET", "h", "/").endswith(b"\r\n\r\n")
