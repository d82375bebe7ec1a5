"""An open-loop, constant-rate HTTP/1.1 load generator (like ``wrk2 -R``), for the benchmarks.

    .venv/bin/python bench/openloop.py --rate 200 --duration 30 [--connections 16] \\
        [--method POST --body FILE [--content-type application/json]] URL

Why not wrk: wrk is a closed loop (each connection sends its next request only when the last
one is answered), so it always runs the server at saturation, and when the server stalls it
simply stops sending: the requests that *would* have been sent during the stall are never
timed ("coordinated omission"). A service-level goal such as "p99 under 50 ms at 200 req/s"
needs requests sent on a fixed schedule whatever the server does, each timed from the moment
it was *meant* to be sent.

How: request ``i`` is due at ``start + i / rate``. One dispatcher puts each due request on a
queue at its time; ``connections`` keep-alive connections take requests from that queue as
soon as they are free (so a slow or busy connection never holds the schedule back) and write
raw HTTP/1.1. A request's latency is from its due time to the last byte of its answer, so time
spent waiting for a free connection counts (wrk2's correction). A server that answers
``Connection: close`` (gunicorn's sync workers) gets a new connection for the next request, as
a proxy would open one. Requests due in the first ``warmup`` seconds are sent but not counted.
After the last due time the client waits (up to ``drain`` seconds) for the answers still owed;
a request still unanswered then is reported apart from the errors (a server run above its
capacity has a backlog it cannot clear; below it there is none).

The client runs on one asyncio event loop in one thread; it reports its own CPU time so a
reader can see it did not compete seriously with the server, and how late the dispatcher put
requests on the queue (if it lags, the client, not the server, is the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "Latencies",
    "OpenLoopResult",
    "http_request",
    "percentile",
    "run_open_loop",
]

#: Percentiles every result reports, in order.
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def http_request(
    method: str,
    host: str,
    path: str,
    body: bytes = b"",
    content_type: str = "application/json",
) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request (``body`` with ``Content-Length``)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: sijil-openloop"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("ascii") + body


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank ``pct`` percentile of ``ordered`` (sorted ascending; 0.0 when empty)."""
    if not ordered:
        return 0.0
    # Rounded first: 99.9 / 100 * 1000 is 999.0000000000001 in binary floating point.
    rank = max(1, math.ceil(round(pct / 100.0 * len(ordered), 6)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Latencies:
    """Summary of the counted latencies, in milliseconds."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latencies:
        """Summarise latencies given in seconds."""
        ordered = sorted(seconds)
        ms = [percentile(ordered, p) * 1000.0 for p in PERCENTILES]
        return cls(
            count=len(ordered),
            p50_ms=ms[0],
            p90_ms=ms[1],
            p99_ms=ms[2],
            p999_ms=ms[3],
            max_ms=(ordered[-1] * 1000.0) if ordered else 0.0,
            mean_ms=(sum(ordered) / len(ordered) * 1000.0) if ordered else 0.0,
        )


@dataclass
class OpenLoopResult:
    """What one open-loop run sent, what came back, and how the client itself fared."""

    rate: float
    duration_s: float
    warmup_s: float
    connections: int
    scheduled: int
    counted: int
    ok: int
    latency: Latencies
    throughput: float
    """Answers completed per second inside the counted window (= ``rate`` below saturation)."""
    by_label: dict[str, Latencies] = field(default_factory=dict)
    """Latencies of each kind of request, when the requests were given labels."""
    errors: dict[str, int] = field(default_factory=dict)
    """Counted requests that failed, by kind: ``status <code>``, ``timeout``, ``connection``."""
    unanswered: int = 0
    """Counted requests still unanswered when the drain time ran out (not in ``errors``)."""
    connects: int = 0
    max_dispatch_lag_ms: float = 0.0
    client_cpu_s: float = 0.0
    wall_s: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def error_count(self) -> int:
        """Every counted request that did not get the expected answer."""
        return sum(self.errors.values())

    @property
    def client_cpu_share(self) -> float:
        """The client's CPU time over its wall time (1.0 = one core busy)."""
        return self.client_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def saturated(self) -> bool:
        """Whether the server fell behind the schedule (answers < 95 % of the rate)."""
        return self.throughput < 0.95 * self.rate

    def summary(self) -> str:
        """One line for a terminal."""
        lat = self.latency
        return (
            f"rate {self.rate:g}/s -> {self.throughput:.1f}/s  p50 {lat.p50_ms:.1f}  "
            f"p90 {lat.p90_ms:.1f}  p99 {lat.p99_ms:.1f}  p99.9 {lat.p999_ms:.1f}  "
            f"max {lat.max_ms:.1f} ms  errors {self.error_count}  "
            + (f"unanswered {self.unanswered}  " if self.unanswered else "")
            + f"client CPU {self.client_cpu_share * 100:.0f}%  dispatch lag max "
            f"{self.max_dispatch_lag_ms:.1f} ms  load {self.load_before:.2f}->{self.load_after:.2f}"
        )


@dataclass
class _Outcome:
    index: int
    due: float
    counted: bool
    done: float = 0.0
    error: str | None = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class _Connection:
    """One keep-alive HTTP/1.1 connection, reopened after ``Connection: close`` or an error."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send ``raw``, return the status code and body of the answer."""
        return await asyncio.wait_for(self._exchange(raw), self.timeout)

    async def _exchange(self, raw: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.connects += 1
        reader, writer = self.reader, self.writer
        writer.write(raw)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.decode("latin-1").partition("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_block.split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunked(reader)
        else:
            body = await reader.read()  # delimited by the close
            headers["connection"] = "close"
        keep = "close" if status_line.startswith("HTTP/1.0") else "keep-alive"
        if headers.get("connection", keep).lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        """Close the socket (the next exchange opens a new one)."""
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _run(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    rate: float,
    duration: float,
    warmup: float,
    connections: int,
    timeout: float,
    drain: float,
    expect: Callable[[int, bytes], bool],
) -> tuple[list[_Outcome], float, float, int]:
    loop = asyncio.get_running_loop()
    total = round(rate * (warmup + duration))
    queue: asyncio.Queue[tuple[int, _Outcome] | None] = asyncio.Queue()
    outcomes: list[_Outcome] = []
    pool = [_Connection(host, port, timeout) for _ in range(connections)]
    max_lag = 0.0
    start = loop.time() + 0.05

    async def dispatch() -> None:
        nonlocal max_lag
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            max_lag = max(max_lag, loop.time() - due)
            outcome = _Outcome(index=i, due=due, counted=i >= rate * warmup)
            outcomes.append(outcome)
            queue.put_nowait((i, outcome))

    async def serve(conn: _Connection) -> None:
        while (item := await queue.get()) is not None:
            i, outcome = item
            try:
                status, body = await conn.exchange(requests[i % len(requests)])
            except TimeoutError:
                outcome.error = "timeout"
                await conn.close()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                outcome.error = "connection"
                await conn.close()
            else:
                if not expect(status, body):
                    outcome.error = f"status {status}"
            outcome.done = loop.time()
        await conn.close()

    workers = [asyncio.create_task(serve(conn)) for conn in pool]
    await dispatch()
    for _ in workers:
        queue.put_nowait(None)
    end_of_schedule = start + total / rate
    _, pending = await asyncio.wait(
        workers, timeout=max(0.0, end_of_schedule - loop.time()) + drain
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return outcomes, start, max_lag, sum(conn.connects for conn in pool)


def run_open_loop(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    rate: float,
    duration: float,
    warmup: float = 0.0,
    connections: int = 16,
    timeout: float = 30.0,
    drain: float | None = None,
    expect: Callable[[int, bytes], bool] = lambda status, body: status == 200,
    labels: Sequence[str] | None = None,
) -> OpenLoopResult:
    """Send ``requests`` round-robin at ``rate`` per second for ``warmup + duration`` seconds.

    ``requests`` are complete HTTP/1.1 requests (see :func:`http_request`), request ``i``
    being ``requests[i % len(requests)]``. An answer counts as an error unless
    ``expect(status, body)``. Only requests due after ``warmup`` are counted. After the last
    due time, answers are awaited for ``drain`` seconds (default ``timeout``). With ``labels``
    (parallel to ``requests``), latencies are also summarised per label.
    """
    if rate <= 0 or duration <= 0 or connections < 1 or not requests:
        raise ValueError("rate, duration and connections must be positive, requests non-empty")
    if labels is not None and len(labels) != len(requests):
        raise ValueError("labels must be parallel to requests")
    load_before = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.monotonic()
    outcomes, start, max_lag, connects = asyncio.run(
        _run(
            host,
            port,
            requests,
            rate=rate,
            duration=duration,
            warmup=warmup,
            connections=connections,
            timeout=timeout,
            drain=timeout if drain is None else drain,
            expect=expect,
        )
    )
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    counted = [o for o in outcomes if o.counted]
    errors: dict[str, int] = {}
    unanswered = 0
    for outcome in counted:
        if not outcome.done:
            unanswered += 1
        elif outcome.error is not None:
            errors[outcome.error] = errors.get(outcome.error, 0) + 1
    answered = [o for o in counted if o.done and o.error is None]
    good = [o.done - o.due for o in answered]
    grouped: dict[str, list[float]] = {}
    if labels is not None:
        for o in answered:
            grouped.setdefault(labels[o.index % len(labels)], []).append(o.done - o.due)
    window_start, window_end = start + warmup, start + warmup + duration
    in_window = sum(1 for o in outcomes if o.done and window_start <= o.done < window_end)
    return OpenLoopResult(
        rate=rate,
        duration_s=duration,
        warmup_s=warmup,
        connections=connections,
        scheduled=len(outcomes),
        counted=len(counted),
        ok=len(good),
        latency=Latencies.of(good),
        by_label={label: Latencies.of(values) for label, values in grouped.items()},
        throughput=in_window / duration,
        errors=errors,
        unanswered=unanswered,
        connects=connects,
        max_dispatch_lag_ms=max_lag * 1000.0,
        client_cpu_s=cpu,
        wall_s=wall,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: one open-loop run against ``URL``; prints a summary (``--json`` all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", help="http://host:port/path (plain HTTP only)")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="counted seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds sent, not counted")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--drain", type=float, help="seconds to await answers after the schedule")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", type=Path, help="file with the request body")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--expect", type=int, default=200, help="the status that is success")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme != "http" or url.hostname is None:
        parser.error("only http://host[:port]/path URLs")
    port = url.port or 80
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    body = args.body.read_bytes() if args.body is not None else b""
    raw = http_request(args.method, f"{url.hostname}:{port}", path, body, args.content_type)
    expected = args.expect
    result = run_open_loop(
        url.hostname,
        port,
        [raw],
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        timeout=args.timeout,
        drain=args.drain,
        expect=lambda status, _body: status == expected,
    )
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(result), indent=2))
    else:
        print(result.summary())
    return 1 if result.error_count else 0


if __name__ == "__main__":
    sys.exit(main())
