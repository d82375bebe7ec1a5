"""Benchmark: bulk progress import -> COC / COA / MMS issuance on SQLite (not a test).

    .venv/bin/python bench/bench_issue.py [--learners 2000] [--rows-per-learner 5]

Catalogue: a programme of two micro-credentials (one material + one assessment each) and a
stand-alone one (one material). Each learner has 5 rows: material + passing result for both
programme units, and the stand-alone material, i.e. 10,000 rows for 2,000 learners, yielding per
learner 3 COCs, 2 COAs and 1 MMS (12,000 credentials).

Prints credentials issued per second end to end (CSV parse, database, build, signing with
eddsa-rdfc-2022, self-verification with the verifier, storage, audit), then for a sample of the
same credentials: signing alone, and self-verification alone, so we see where time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
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
from issuer.services.issuance import verify_own
from issuer.services.issuers import ensure_default_issuer, signing_key
from issuer.settings import Settings
from keys.dataintegrity import add_proof


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=600, help="credentials for the split")
    parser.add_argument(
        "--reference", action="store_true", help="speed-ups off (bench/speedups.py): 'before'"
    )
    args = parser.parse_args()
    if args.reference:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from speedups import disable

        disable()
        print("speed-ups OFF (reference)")
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="sijil-bench-") as tmp:
        settings = Settings.from_env(
            {
                "SIJIL_ENV": "development",
                "SIJIL_INSTANCE_DIR": tmp,
                "SIJIL_BASE_URL": "https://bench.example.edu.my",
                "SIJIL_KEY_PASSPHRASE": "bench-passphrase",
                "SIJIL_SECRET_KEY": "bench-secret-key",
            }
        )
        rt = open_runtime(settings)
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
        csv_path = Path(tmp) / "progress.csv"
        rows = _csv(csv_path, args.learners)

        started, cpu_started = time.perf_counter(), time.process_time()
        summary = import_progress(rt, csv_path, actor="bench")
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        issued = sum(summary.issued.values())
        print(f"rows: {rows} for {args.learners} learners; bad rows: {len(summary.bad_rows)}")
        print(f"issued: {dict(summary.issued)} = {issued} credentials in {elapsed:.1f} s")
        print(f"end to end: {issued / elapsed:.1f} credentials/s ({rows / elapsed:.0f} rows/s)")
        print(
            f"  CPU time of this process {cpu:.1f} s: {issued / cpu:.1f} credentials per CPU "
            "second (wall-clock figures suffer when other processes share the 2 cores)"
        )

        started = time.perf_counter()
        again = import_progress(rt, csv_path, actor="bench")
        replay = time.perf_counter() - started
        print(f"replay of the same CSV: issued {sum(again.issued.values())} in {replay:.1f} s")

        awards = list_awards(rt, limit=None)
        by_type: dict[str, list[dict[str, Any]]] = {}
        for award in awards:
            by_type.setdefault(award.award_type, []).append(award.credential())
        # Same mix as issued: 3 COC : 2 COA : 1 MMS.
        sample: list[dict[str, Any]] = []
        mix = Counter({k: len(v) for k, v in by_type.items()})
        total = sum(mix.values())
        for kind, creds in by_type.items():
            sample += creds[: max(1, args.sample * mix[kind] // total)]
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
        started, cpu_started = time.perf_counter(), time.process_time()
        for doc in signed:
            verify_own(rt, doc, at=rt.now())
        verify_s = time.perf_counter() - started
        verify_cpu = time.process_time() - cpu_started
        n = len(sample)
        print(f"split over {n} of them (same mix):")
        for label, seconds, cpu_s in (
            ("signing alone", sign_s, sign_cpu),
            ("self-verification alone", verify_s, verify_cpu),
        ):
            print(
                f"  {label + ':':<25}{n / seconds:.1f} credentials/s "
                f"({1000 * seconds / n:.1f} ms; {n / cpu_s:.1f} per CPU second)"
            )
        cpu_per = cpu / issued * 1000
        cpu_rest = cpu_per - 1000 * (sign_cpu + verify_cpu) / n
        print(
            f"  CPU per credential {cpu_per:.1f} ms = signing {1000 * sign_cpu / n:.1f} + "
            f"self-verification {1000 * verify_cpu / n:.1f} + database/build/rest {cpu_rest:.1f}"
        )
        per = elapsed / issued * 1000
        rest = per - 1000 * (sign_s + verify_s) / n
        print(f"  end to end per credential {per:.1f} ms; database + build + rest ~{rest:.1f} ms")
        size = sum(len(json.dumps(c)) for c in sample) / n
        print(f"  mean credential size {size / 1024:.1f} KiB")
        rt.close()


if __name__ == "__main__":
    main()
