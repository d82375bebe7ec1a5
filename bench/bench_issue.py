"""Benchmark: bulk progress import -> COC / COA / MMS issuance on SQLite (not a test).

    .venv/bin/python bench/bench_issue.py                      # 10,000 rows -> 12,000 credentials
    .venv/bin/python bench/bench_issue.py --rows 1000,10000,50000 --sample 0   # growth with size
    .venv/bin/python bench/bench_issue.py --rows 1500 --profile /tmp/import.prof

Catalogue: a programme of two micro-credentials (one material + one assessment each) and a
stand-alone one (one material). Each learner has 5 rows: material + passing result for both
programme units, and the stand-alone material, so ``--rows 10000`` is 2,000 learners, yielding
per learner 3 COCs, 2 COAs and 1 MMS (12,000 credentials).

The import is the real path of ``sijil-issuer import-progress``: status lists on (every
credential gets a revocation entry; ``--no-status`` for figures comparable with runs before
they were measured), learner mail queued in the outbox. Prints, per size, credentials issued
per second end to end (CSV parse, database, build, status allocation, signing with
eddsa-rdfc-2022, self-verification with the verifier, storage, audit, outbox) in wall-clock
and per CPU second of this process, then for a sample of the first size's credentials: signing
alone and self-verification alone, so we see where the time goes. The 1-minute load average
is printed with every figure: on a shared machine the wall-clock figures are lower bounds.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from contexts.jsonld import clear_canonical_cache
from issuer.domain.catalogue import (
    AssessmentSpec,
    MaterialSpec,
    MicroCredentialSpec,
    ProgrammeSpec,
)
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_micro_credential, upsert_programme
from issuer.services.csvimport import import_progress
from issuer.services.issuance import IssuanceRun, secure_credential, verify_own
from issuer.services.issuers import IssuerView, ensure_default_issuer, get_issuer, signing_key
from issuer.services.runtime import Runtime
from issuer.settings import Settings
from keys.dataintegrity import add_proof

ROWS_PER_LEARNER = 5
CREDENTIALS_PER_LEARNER = 6


def _mc(code: str, category: str, assessments: bool) -> MicroCredentialSpec:
    return MicroCredentialSpec(
        code=code,
        title=f"Bench course {code}",
        description="Benchmark micro-credential",
        credits=2,
        slt_hours=80,
        mqf_level=6,
        delivery_mode="online",
        category="stand-alone" if category == "stand-alone" else "programme-based",
        learning_outcomes=("Outcome one", "Outcome two"),
        materials=(MaterialSpec("M1", "Module 1"),),
        assessments=(AssessmentSpec("A1", "Final", Decimal(50)),) if assessments else (),
    )


def _csv(path: Path, learners: int) -> int:
    lines = ["learner_id,learner_email,learner_name,micro_credential,event,item,score,grade"]
    for i in range(learners):
        who = f"B{i:05d},b{i}@bench.example.my,Pelajar {i} 学生 மாணவர்"
        lines += [
            f"{who},U1,material_completed,M1,,",
            f"{who},U1,assessment_result,A1,{60 + i % 40},B",
            f"{who},U2,material_completed,M1,,",
            f"{who},U2,assessment_result,A1,{55 + i % 45},B",
            f"{who},SA1,material_completed,M1,,",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _instance(tmp: str, status: bool, workers: str) -> tuple[Runtime, IssuerView]:
    settings = Settings.from_env(
        {
            "SIJIL_ISSUE_WORKERS": workers,
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": tmp,
            "SIJIL_BASE_URL": "https://bench.example.edu.my",
            "SIJIL_KEY_PASSPHRASE": "bench-passphrase",
            "SIJIL_SECRET_KEY": "bench-secret-key",
        }
    )
    rt = open_runtime(settings, status_lists=status)
    issuer = ensure_default_issuer(rt, actor="bench")
    for code, category, graded in (
        ("U1", "programme-based", True),
        ("U2", "programme-based", True),
        ("SA1", "stand-alone", False),
    ):
        upsert_micro_credential(rt, _mc(code, category, graded), actor="bench")
    upsert_programme(
        rt, ProgrammeSpec("BP", "Bench programme", "Bench", 6, ("U1", "U2")), actor="bench"
    )
    return rt, issuer


#: Each worker process's own runtime on the bench instance (reads only), for the headroom run.
_WORKER: dict[str, Any] = {}


def _worker_start(settings: Settings) -> None:
    rt = open_runtime(settings, run_migrations=False, status_lists=True)
    _WORKER["rt"] = rt
    _WORKER["issuer"] = get_issuer(rt)
    _WORKER["run"] = IssuanceRun.start(rt)


def _worker_sign_verify(docs: list[dict[str, Any]]) -> int:
    """Sign and self-verify ``docs`` as the import does, in this worker process."""
    rt: Runtime = _WORKER["rt"]
    run: IssuanceRun = _WORKER["run"]
    run.begin()
    with rt.reading() as session:
        for doc in docs:
            secure_credential(rt, _WORKER["issuer"], doc, at=rt.now(), session=session, run=run)
    return len(docs)


def _headroom(rt: Runtime, unsigned: list[dict[str, Any]], workers: int) -> float:
    """Signing + self-verification of ``unsigned`` spread over ``workers`` processes (each
    opens the instance itself and reads the key from the encrypted key store): the share of
    the import a worker pool could move off the process that holds the database."""
    context = multiprocessing.get_context("spawn")
    batches = [unsigned[i : i + 20] for i in range(0, len(unsigned), 20)]
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(rt.settings,)
    ) as pool:
        # Start-up and warm-up on other documents (each worker has its own canonical cache).
        warm = [[{**doc, "id": f"{doc['id']}-w"}] for doc in unsigned[: 2 * workers]]
        list(pool.map(_worker_sign_verify, warm))
        started = time.perf_counter()
        done = sum(pool.map(_worker_sign_verify, batches))
        return done / (time.perf_counter() - started)


def _split(rt: Runtime, issuer: IssuerView, sample_size: int, cpu_per: float, workers: int) -> None:
    """Signing alone and self-verification alone over a sample of the issued credentials."""
    awards = list_awards(rt, limit=None)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for award in awards:
        by_type.setdefault(award.award_type, []).append(award.credential())
    # Same mix as issued: 3 COC : 2 COA : 1 MMS.
    sample: list[dict[str, Any]] = []
    mix = Counter({k: len(v) for k, v in by_type.items()})
    total = sum(mix.values())
    for kind, creds in by_type.items():
        sample += creds[: max(1, sample_size * mix[kind] // total)]
    unsigned = [{k: v for k, v in c.items() if k != "proof"} for c in sample]
    key = signing_key(rt, issuer)
    # Signing as in the import: documents never canonicalized before (cold cache); the
    # self-verification right after signing then reuses those results, as in the import.
    clear_canonical_cache()
    started, cpu_started = time.perf_counter(), time.process_time()
    signed = [
        add_proof(
            doc, key, verification_method=issuer.verification_method, created=doc["validFrom"]
        )
        for doc in unsigned
    ]
    sign_s = time.perf_counter() - started
    sign_cpu = time.process_time() - cpu_started
    # Self-verification as in the import: one run's verifier (trust list read once, each
    # status list verified once) over the award's transaction.
    run = IssuanceRun.start(rt)
    started, cpu_started = time.perf_counter(), time.process_time()
    with rt.reading() as session:
        for doc in signed:
            verify_own(rt, doc, at=rt.now(), session=session, verifier=run.verifier_in(rt, session))
    verify_s = time.perf_counter() - started
    verify_cpu = time.process_time() - cpu_started
    n = len(sample)
    print(f"split over {n} of them (same mix; {_load()}):")
    for label, seconds, cpu_s in (
        ("signing alone", sign_s, sign_cpu),
        ("self-verification alone", verify_s, verify_cpu),
    ):
        print(
            f"  {label + ':':<25}{n / seconds:.1f} credentials/s "
            f"({1000 * seconds / n:.1f} ms; {n / cpu_s:.1f} per CPU second)"
        )
    rest = cpu_per - 1000 * (sign_cpu + verify_cpu) / n
    print(
        f"  CPU per credential {cpu_per:.1f} ms = signing {1000 * sign_cpu / n:.1f} + "
        f"self-verification {1000 * verify_cpu / n:.1f} + database/build/rest {rest:.1f}"
    )
    size = sum(len(json.dumps(c)) for c in sample) / n
    print(f"  mean credential size {size / 1024:.1f} KiB")
    if workers < 1:
        return
    # Fresh credential ids, so each is signed cold, as in the import.
    fresh = [{**doc, "id": f"{doc['id']}-h"} for doc in unsigned]
    rate = _headroom(rt, fresh, workers)
    parallel_ms = 1000 * (sign_cpu + verify_cpu) / n
    print(
        f"headroom: signing + self-verification in {workers} worker processes: "
        f"{rate:.1f} credentials/s ({_load()}); the rest ({rest:.1f} ms of CPU per credential: "
        f"database, build, status, outbox) stays in one process, so a pool gives at most "
        f"{1000 / max(rest, parallel_ms / workers):.0f} credentials/s on an idle machine "
        f"(one process now: {1000 / cpu_per:.0f} per CPU second)"
    )


def _run(rows_wanted: int, args: argparse.Namespace, first: bool) -> dict[str, float]:
    learners = max(1, rows_wanted // ROWS_PER_LEARNER)
    with tempfile.TemporaryDirectory(prefix="sijil-bench-") as tmp:
        rt, issuer = _instance(tmp, args.status, args.issue_workers)
        try:
            csv_path = Path(tmp) / "progress.csv"
            rows = _csv(csv_path, learners)
            load_before = os.getloadavg()[0]
            profile = cProfile.Profile() if args.profile and first else None
            started, cpu_started = time.perf_counter(), time.process_time()
            if profile is not None:
                profile.enable()
            summary = import_progress(rt, csv_path, actor="bench")
            if profile is not None:
                profile.disable()
                profile.dump_stats(args.profile)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            issued = sum(summary.issued.values())
            expected = learners * CREDENTIALS_PER_LEARNER
            print(f"\nrows: {rows} for {learners} learners; bad rows: {len(summary.bad_rows)}")
            print(f"issued: {dict(summary.issued)} = {issued} credentials in {elapsed:.1f} s")
            if issued != expected or summary.bad_rows:
                raise SystemExit(f"expected {expected} credentials and no bad row")
            print(
                f"end to end: {issued / elapsed:.1f} credentials/s ({rows / elapsed:.0f} rows/s; "
                f"load {load_before:.1f} before, {_load()} after)"
            )
            print(
                f"  CPU time of this process {cpu:.1f} s: {issued / cpu:.1f} credentials per CPU "
                f"second, {1000 * cpu / issued:.1f} ms each"
            )
            if profile is not None:
                print(f"  profile (cProfile, slows the run) written to {args.profile}")
            started = time.perf_counter()
            again = import_progress(rt, csv_path, actor="bench")
            replay = time.perf_counter() - started
            print(f"replay of the same CSV: issued {sum(again.issued.values())} in {replay:.1f} s")
            if first and args.sample:
                _split(rt, issuer, args.sample, 1000 * cpu / issued, args.workers)
        finally:
            rt.close()
    return {"rows": rows, "issued": issued, "wall": elapsed, "cpu": cpu, "load": load_before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        default="10000",
        help="progress rows per run, comma-separated sizes (default 10000; e.g. 1000,10000,50000)",
    )
    parser.add_argument(
        "--learners", type=int, default=None, help="instead of --rows: one run, 5 rows each"
    )
    parser.add_argument("--sample", type=int, default=600, help="credentials for the split (0: no)")
    parser.add_argument(
        "--status",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="status lists on, as the CLI import (default); --no-status as bench runs before",
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the first import into FILE")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the headroom figure (0: skip it)",
    )
    parser.add_argument(
        "--issue-workers",
        default="",
        metavar="N",
        help="SIJIL_ISSUE_WORKERS for the import (default: the setting's, cores less one; 0: none)",
    )
    parser.add_argument(
        "--reference", action="store_true", help="speed-ups off (bench/speedups.py): 'before'"
    )
    args = parser.parse_args()
    if args.reference:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from speedups import disable

        disable()
        print("speed-ups OFF (reference)")
    sizes = (
        [args.learners * ROWS_PER_LEARNER]
        if args.learners
        else [int(s) for s in args.rows.split(",") if s.strip()]
    )
    print(f"{_load()}; {os.cpu_count()} cores; status lists {'on' if args.status else 'off'}")
    results = [_run(size, args, i == 0) for i, size in enumerate(sizes)]
    if len(results) > 1:
        print("\n| rows | credentials | wall s | credentials/s | per CPU s | CPU ms each | load |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['rows']:,.0f} | {r['issued']:,.0f} | {r['wall']:.1f} | "
                f"{r['issued'] / r['wall']:.1f} | {r['issued'] / r['cpu']:.1f} | "
                f"{1000 * r['cpu'] / r['issued']:.1f} | {r['load']:.1f} |"
            )


if __name__ == "__main__":
    main()
