"""Benchmark: 4 issuer processes issuing into one PostgreSQL database, then revoking (not a test).

    .venv/bin/python bench/bench_status.py --database-url postgresql+psycopg://... \\
        [--processes 4] [--per-process 1000] [--revoke 500]

The database must be empty (it is migrated here). Catalogue: one stand-alone micro-credential
with one material; each learner completes it, so each evaluation issues one COC through the
full pipeline (status allocation, eddsa-rdfc-2022 signing, self-verification against the
issuer's own status lists, storage, audit). ``--processes`` processes each evaluate their own
``--per-process`` learners at the same time; then as many processes revoke ``--revoke``
awards concurrently in batches of 25. Checks: every (list, index) is distinct, and the
published revocation lists have exactly the revoked awards' bits set. Prints the timings.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from issuer.db.models import Learner, StatusList
from issuer.domain.catalogue import LearnerSpec, MaterialSpec, MicroCredentialSpec
from issuer.domain.progress import ProgressEvent
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_learner, upsert_micro_credential
from issuer.services.issuance import evaluate_learners
from issuer.services.issuers import ensure_default_issuer
from issuer.services.progress import record_progress
from issuer.services.status import change_status, published_list
from issuer.settings import Settings
from verifier.bitstring import decode_list


def _settings(instance: str, url: str) -> Settings:
    return Settings.from_env(
        {
            "SIJIL_INSTANCE_DIR": instance,
            "SIJIL_DATABASE_URL": url,
            "SIJIL_BASE_URL": "https://issuer.bench.example",
            "SIJIL_KEY_PASSPHRASE": "bench-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "bench-secret-not-secret",
        }
    )


def issue_worker(args: tuple[str, str, list[int]]) -> int:
    """Evaluate (issue for) these learners through the full pipeline."""
    instance, url, learner_ids = args
    rt = open_runtime(_settings(instance, url), run_migrations=False, status_lists=True)
    try:
        return len(evaluate_learners(rt, learner_ids, actor="bench"))
    finally:
        rt.close()


def revoke_worker(args: tuple[str, str, list[str]]) -> int:
    """Revoke these awards in batches of 25."""
    instance, url, award_ids = args
    rt = open_runtime(_settings(instance, url), run_migrations=False)
    try:
        for start in range(0, len(award_ids), 25):
            change_status(rt, award_ids[start : start + 25], "revoke", reason="bench", actor="b")
        return len(award_ids)
    finally:
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--per-process", type=int, default=1000)
    parser.add_argument("--revoke", type=int, default=500)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="sijil-bench-status-")
    url = args.database_url
    total = args.processes * args.per_process
    rt = open_runtime(_settings(instance, url), status_lists=True)
    ensure_default_issuer(rt, actor="bench")
    upsert_micro_credential(
        rt,
        MicroCredentialSpec(
            code="BSL1",
            title="Bench course",
            description="Benchmark micro-credential",
            credits=1,
            slt_hours=40,
            mqf_level=5,
            delivery_mode="online",
            category="stand-alone",
            materials=(MaterialSpec("M1", "Module 1"),),
        ),
        actor="bench",
    )
    events = []
    for i in range(total):
        external = f"B{i:06d}"
        upsert_learner(rt, LearnerSpec(external, f"b{i}@bench.example", f"Learner {i}"), actor="b")
        events.append(ProgressEvent(external, "BSL1", "material_completed", "M1"))
    record_progress(rt, events, actor="bench", evaluate=False)
    with rt.reading() as session:
        ids = list(session.scalars(select(Learner.id).order_by(Learner.id)))
    context = multiprocessing.get_context("spawn")
    shares = [ids[p :: args.processes] for p in range(args.processes)]
    started = time.perf_counter()
    with context.Pool(args.processes) as pool:
        issued = sum(pool.map(issue_worker, [(instance, url, share) for share in shares]))
    issue_seconds = time.perf_counter() - started
    awards = list_awards(rt, limit=None)
    pairs = [
        (e["statusListCredential"], e["statusListIndex"])
        for a in awards
        for e in a.credential()["credentialStatus"]
    ]
    assert issued == total == len(awards), (issued, total, len(awards))
    assert len(set(pairs)) == len(pairs), "an index was handed out twice"
    revoked = awards[:: max(1, total // args.revoke)][: args.revoke]
    revoked_ids = [a.id for a in revoked]
    started = time.perf_counter()
    with context.Pool(args.processes) as pool:
        pool.map(
            revoke_worker,
            [(instance, url, revoked_ids[p :: args.processes]) for p in range(args.processes)],
        )
    revoke_seconds = time.perf_counter() - started
    expected = {
        (e["statusListCredential"], int(e["statusListIndex"]))
        for a in revoked
        for e in a.credential()["credentialStatus"]
        if e["statusPurpose"] == "revocation"
    }
    with rt.reading() as session:
        lists = list(
            session.scalars(select(StatusList.id).where(StatusList.purpose == "revocation"))
        )
    found: set[tuple[str, int]] = set()
    for list_id in lists:
        doc = json.loads(published_list(rt, list_id).body)
        bits = decode_list(doc["credentialSubject"]["encodedList"])
        found |= {(doc["id"], i) for i in range(bits.entries()) if bits.is_set(i)}
    assert found == expected, (len(found), len(expected))
    rt.close()
    print(
        f"issued {issued} credentials with {len(pairs)} distinct status indices in "
        f"{issue_seconds:.1f} s ({issued / issue_seconds:.1f}/s, {args.processes} processes)"
    )
    print(
        f"revoked {len(revoked_ids)} concurrently in {revoke_seconds:.1f} s; "
        f"exactly {len(found)} revocation bits set in {len(lists)} list(s)"
    )
    Path(instance).joinpath("result.txt").write_text("ok\n", encoding="utf-8")


if __name__ == "__main__":
    main()
