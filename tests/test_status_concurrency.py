"""Several issuer processes on one PostgreSQL database: no index twice, no status update lost.

4 processes allocate 1,000 revocation indices each through the allocation service (one
transaction per index, as the issuance pipeline does); then 4 processes revoke 500 of them
concurrently in batches. Every index is distinct and the published list has exactly those 500
bits set. (The full sign-and-store path at this size is ``bench/bench_status.py``.)
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from postgres import reset_database
from sqlalchemy import func, select

from issuer.db.models import Award, Learner, StatusEntry
from issuer.domain.catalogue import LearnerSpec
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_learner
from issuer.services.issuers import ensure_default_issuer
from issuer.services.status import ListAllocator, change_status, published_list
from issuer.settings import Settings
from verifier.bitstring import decode_list

pytestmark = pytest.mark.postgres

PROCESSES = 4
PER_PROCESS = 1000
REVOKED = 500


def _settings(instance: Path, url: str) -> Settings:
    return Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": url,
            "SIJIL_BASE_URL": "https://issuer.test.example",
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
        }
    )


def allocate_worker(args: tuple[str, str, int, int, int]) -> list[tuple[int, int]]:
    """One process: ``count`` allocations, each in its own transaction."""
    instance, url, issuer_id, worker, count = args
    rt = open_runtime(_settings(Path(instance), url), run_migrations=False)
    try:
        allocator = ListAllocator(rt)
        out: list[tuple[int, int]] = []
        for i in range(count):
            with rt.transaction() as session:
                out.append(
                    allocator.allocate(session, issuer_id, "revocation", f"urn:w{worker}:{i}")
                )
        return out
    finally:
        rt.close()


def revoke_worker(args: tuple[str, str, list[str]]) -> int:
    """One process: revoke ``award_ids`` in batches of 25."""
    instance, url, award_ids = args
    rt = open_runtime(_settings(Path(instance), url), run_migrations=False)
    try:
        for start in range(0, len(award_ids), 25):
            batch = award_ids[start : start + 25]
            change_status(rt, batch, "revoke", reason="concurrency test", actor="test")
        return len(award_ids)
    finally:
        rt.close()


def test_four_processes_allocate_distinct_indices_and_lose_no_revocation(
    tmp_path: Path, postgres_server: str
) -> None:
    url = postgres_server
    reset_database(url)
    instance = tmp_path / "instance"
    rt = open_runtime(_settings(instance, url))
    try:
        issuer = ensure_default_issuer(rt, actor="test")
        learner = upsert_learner(rt, LearnerSpec("S9", "s9@x.my", "Siti"), actor="test")
        context = multiprocessing.get_context("spawn")
        jobs = [(str(instance), url, issuer.id, w, PER_PROCESS) for w in range(PROCESSES)]
        with context.Pool(PROCESSES) as pool:
            allocated = [pair for chunk in pool.map(allocate_worker, jobs) for pair in chunk]
        assert len(allocated) == PROCESSES * PER_PROCESS
        assert len(set(allocated)) == len(allocated)
        with rt.reading() as session:
            rows = session.scalar(select(func.count()).select_from(StatusEntry))
        assert rows == PROCESSES * PER_PROCESS
        # 500 awards, one per allocated credential id, to revoke through the real service.
        picked = allocated[:: (PROCESSES * PER_PROCESS) // REVOKED][:REVOKED]
        with rt.transaction() as session:
            by_pair = {
                (e.list_id, e.index): e.credential_id for e in session.scalars(select(StatusEntry))
            }
            lid = session.scalar(
                select(Learner.id).where(Learner.external_id == learner.external_id)
            )
            assert lid is not None
            award_ids = []
            for n, pair in enumerate(picked):
                award_id = f"00000000-0000-4000-8000-{n:012d}"
                award_ids.append(award_id)
                session.add(
                    Award(
                        id=award_id,
                        learner_id=lid,
                        award_type="COA",
                        achievement_code=f"C{n}",
                        issuer_id=issuer.id,
                        credential_id=by_pair[pair] or "",
                        credential_json="{}",
                        issued_at=rt.now(),
                        status="active",
                    )
                )
        share = [award_ids[w::PROCESSES] for w in range(PROCESSES)]
        with context.Pool(PROCESSES) as pool:
            done = pool.map(revoke_worker, [(str(instance), url, ids) for ids in share])
        assert sum(done) == REVOKED
        list_ids = {pair[0] for pair in allocated}
        set_bits: set[tuple[int, int]] = set()
        for list_id in list_ids:
            doc = json.loads(published_list(rt, list_id).body)
            bits = decode_list(doc["credentialSubject"]["encodedList"])
            set_bits |= {(list_id, i) for i in range(bits.entries()) if bits.is_set(i)}
        assert set_bits == set(picked)
    finally:
        rt.close()
