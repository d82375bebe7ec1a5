"""The long fuzz run: 10,000+ generated requests per operation of the issuer and the verifier.

Run: ``python bench/fuzz_long.py [--per-operation 10000] [--only issuer|verifier] [--seed N]
[--shard I/N] [--match TEXT] [--json out.json]``. Not a test: one process, in-process WSGI.

The harness is ``tests/test_fuzz_openapi.py`` (the suite runs it briefly with a fixed seed; this
run draws a random seed and prints it, ``--seed`` replays one):
every operation of each service's OpenAPI description, schemathesis-generated positive and
negative data, and for the issuer's token-protected operations also requests with no token.
Every response is checked: never a 5xx; every 4xx a problem+json with a stable ``code`` (HTML
error pages on the human pages); status, media type and body as described. A request running
longer than 120 s is a hang (a SIGALRM watchdog interrupts it).

Printed: per operation the requests sent (per variant), the status histogram, the 5xx count,
the slowest request; then totals and the wall time. Exit status 1 on any 5xx, hang or other
broken rule (each printed with a curl line to reproduce it), 0 otherwise.

``--shard I/N`` runs the I-th of N slices of the operation list (to spread the run over
processes); ``--match TEXT`` keeps the operations whose label contains the text, ``--label
LABEL`` exactly that operation (both repeatable); ``--start-at LABEL`` resumes a slice at that
operation. ``--table A.json B.json`` prints earlier ``--json`` results as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_fuzz_openapi import (  # noqa: E402
    Outcome,
    Service,
    run_variant,
    service,
    variants_of,
)

SERVICES = ("verifier", "issuer")


@dataclass
class OperationResult:
    """One operation's totals over its variants."""

    service: str
    label: str
    requests: int = 0
    per_variant: dict[str, int] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    hangs: int = 0
    slowest: float = 0.0
    slowest_request: str = ""
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def add(self, variant: str, outcome: Outcome) -> None:
        self.per_variant[variant] = outcome.requests
        self.requests += outcome.requests
        self.statuses.update(outcome.statuses)
        self.codes.update(outcome.codes)
        self.failures.extend(outcome.failures)
        self.hangs += outcome.hangs
        if outcome.slowest > self.slowest:
            self.slowest = outcome.slowest
            self.slowest_request = outcome.slowest_request

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.label,
            "requests": self.requests,
            "per_variant": self.per_variant,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "codes": dict(self.codes.most_common()),
            "server_errors": self.server_errors,
            "hangs": self.hangs,
            "failures": self.failures[:20],
            "failure_count": len(self.failures),
            "slowest_seconds": round(self.slowest, 4),
            "slowest_request": self.slowest_request,
            "seconds": round(self.seconds, 1),
        }


def fuzz_operation(svc: Service, label: str, per_operation: int, seed: int) -> OperationResult:
    """At least ``per_operation`` requests for one operation, split over its variants."""
    op = svc.operation(label)
    result = OperationResult(service=svc.name, label=label)
    started = time.perf_counter()
    variants = variants_of(op)
    for index, variant in enumerate(variants):
        remaining = per_operation - result.requests
        if remaining <= 0:
            break
        count = math.ceil(remaining / (len(variants) - index))
        outcome = run_variant(svc, op, variant, count, base_seed=seed, strict=False)
        result.add(variant.name, outcome)
    if result.requests < per_operation:
        # A variant had less to generate (a negative mode with no inputs): top up.
        outcome = run_variant(
            svc,
            op,
            variants[0],
            per_operation - result.requests,
            base_seed=seed + 7919,
            strict=False,
        )
        result.add(variants[0].name + "+", outcome)
    result.seconds = time.perf_counter() - started
    return result


def _histogram(statuses: Counter[int]) -> str:
    return " ".join(f"{status}:{n}" for status, n in sorted(statuses.items()))


def print_result(result: OperationResult) -> None:
    variants = ", ".join(f"{name} {n}" for name, n in result.per_variant.items())
    print(
        f"{result.service:8} {result.label:52} {result.requests:7} req ({variants}) "
        f"5xx={result.server_errors} hangs={result.hangs} failures={len(result.failures)} "
        f"slowest={result.slowest * 1000:.0f} ms [{result.slowest_request}] "
        f"{result.seconds:.0f} s",
        flush=True,
    )
    print(f"         statuses {_histogram(result.statuses)}", flush=True)
    for failure in result.failures[:5]:
        print(f"         FAIL {failure}", flush=True)


def _shard(labels: list[str], shard: str) -> list[str]:
    index, count = (int(part) for part in shard.split("/", 1))
    if not 1 <= index <= count:
        raise SystemExit(f"--shard {shard}: want I/N with 1 <= I <= N")
    return labels[index - 1 :: count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--per-operation", type=int, default=10_000)
    parser.add_argument("--only", choices=SERVICES)
    parser.add_argument(
        "--seed", type=int, default=None, help="fixed seed to replay a run (default: random)"
    )
    parser.add_argument("--shard", default="1/1", help="run the I-th of N slices: I/N")
    parser.add_argument(
        "--match",
        action="append",
        default=[],
        help="only operations whose label contains this (repeatable: any of them)",
    )
    parser.add_argument(
        "--label", action="append", default=[], help="only this operation (repeatable; exact)"
    )
    parser.add_argument("--start-at", default="", help="skip the operations before this label")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--table", type=Path, nargs="+", help="print earlier --json results as Markdown, exit"
    )
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(args.table))
        return 0
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)
    if args.seed is None:  # the long run explores; the suite's short run is the fixed one
        args.seed = secrets.randbits(32)
    print(f"seed {args.seed} (replay with --seed {args.seed})", flush=True)

    started = time.perf_counter()
    began = datetime.now(UTC)
    results: list[OperationResult] = []
    names = [args.only] if args.only else list(SERVICES)
    with tempfile.TemporaryDirectory(prefix="sijil-fuzz-") as tmp:
        for name in names:
            with service(name, Path(tmp) / name) as svc:
                labels = [
                    op.label
                    for op in svc.operations()
                    if not args.match or any(text in op.label for text in args.match)
                ]
                if args.label:
                    labels = [label for label in labels if label in args.label]
                labels = _shard(labels, args.shard)
                if args.start_at:
                    labels = labels[labels.index(args.start_at) :]
                print(f"{name}: {len(labels)} operations, {args.per_operation} each", flush=True)
                for label in labels:
                    result = fuzz_operation(svc, label, args.per_operation, args.seed)
                    results.append(result)
                    print_result(result)
                    if args.json:
                        _write_json(args.json, results, began, time.perf_counter() - started)
    wall = time.perf_counter() - started
    total = Counter[int]()
    for result in results:
        total.update(result.statuses)
    server_errors = sum(r.server_errors for r in results)
    hangs = sum(r.hangs for r in results)
    failures = sum(len(r.failures) for r in results)
    slowest = max(results, key=lambda r: r.slowest, default=None)
    print(
        f"\n{len(results)} operations, {sum(r.requests for r in results)} requests in "
        f"{wall:.0f} s; 5xx={server_errors} hangs={hangs} failures={failures}"
    )
    print(f"statuses {_histogram(total)}")
    below = [r.label for r in results if r.requests < args.per_operation]
    if below:
        print(f"below {args.per_operation}: {below}")
    if slowest is not None:
        print(f"slowest {slowest.slowest * 1000:.0f} ms: {slowest.slowest_request}")
    if args.json:
        _write_json(args.json, results, began, wall)
    return 1 if server_errors or hangs or failures else 0


def markdown_table(paths: list[Path]) -> str:
    """The results of ``--json`` files as a Markdown table (for bench/FUZZ.md)."""
    rows = [
        "| service | operation | requests | variants | status histogram | 5xx | hangs | "
        "failures | slowest |",
        "|---|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        for op in document["operations"]:
            variants = ", ".join(f"{k} {v}" for k, v in op["per_variant"].items())
            statuses = " ".join(f"{k}: {v}" for k, v in op["statuses"].items())
            rows.append(
                f"| {op['service']} | `{op['operation']}` | {op['requests']:,} | {variants} | "
                f"{statuses} | {op['server_errors']} | {op['hangs']} | {op['failure_count']} | "
                f"{op['slowest_seconds'] * 1000:.0f} ms |"
            )
    return "\n".join(rows)


def _write_json(path: Path, results: list[OperationResult], began: datetime, wall: float) -> None:
    document = {
        "started": began.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1),
        "operations": [r.to_dict() for r in results],
    }
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
