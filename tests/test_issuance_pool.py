"""Signing workers (SQLite and PostgreSQL): a large run signs and self-verifies in worker
processes, learners' database work in chunk transactions, and gives exactly what one
transaction per learner gives; any failure falls back to that path."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

import pytest
from issuance_support import UNITS, FailingAllocator, finish, verify_all
from sqlalchemy import func, select

from issuer.db.models import AuditEntry, AwardComponent, Learner, StatusEntry
from issuer.domain.catalogue import LearnerSpec
from issuer.outbox.models import OutboxEvent
from issuer.services import issuance
from issuer.services.awards import AwardView, list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_learner
from issuer.services.demo import seed_demo
from issuer.services.issuance import evaluate_learners, own_issuers, signing_workers
from issuer.services.issuers import get_issuer, signing_key
from issuer.services.progress import record_progress
from issuer.services.runtime import Runtime
from issuer.services.signpool import (
    BrokenPoolError,
    SelfCheckContext,
    SignedText,
    SigningFailure,
    SigningJob,
    SigningPool,
    sign_and_check,
)
from issuer.services.status import (
    ListAllocator,
    OwnStatusListFetcher,
    StatusAllocationError,
    install_status_lists,
)
from issuer.settings import Settings
from keys.dataintegrity import add_proof

#: Enough learners for a run to start signing workers.
LEARNERS = issuance._POOL_MIN_LEARNERS + 2


@pytest.fixture
def pooled(settings: Settings) -> Iterator[Runtime]:
    """A runtime whose large runs sign in one worker process."""
    runtime = open_runtime(dataclasses.replace(settings, issue_workers=1))
    yield runtime
    runtime.close()


def _cohort(rt: Runtime, prefix: str, count: int = LEARNERS) -> list[int]:
    """``count`` learners with all progress recorded, none evaluated yet; their ids."""
    names = [f"{prefix}{n:03d}" for n in range(count)]
    for name in names:
        upsert_learner(rt, LearnerSpec(name, f"{name.lower()}@x.my", f"Pelajar {name}"), actor="t")
    record_progress(rt, [e for name in names for e in finish(name)], actor="t", evaluate=False)
    with rt.reading() as session:
        ids = session.scalars(select(Learner.id).where(Learner.external_id.in_(names))).all()
    return list(ids)


def _seven_each(issued: Sequence[AwardView]) -> None:
    """Every learner of the cohort got a COC and a COA of each unit and the MMS."""
    assert Counter(a.award_type for a in issued) == {
        "COC": 3 * LEARNERS,
        "COA": 3 * LEARNERS,
        "MMS": LEARNERS,
    }


def _counts(rt: Runtime) -> tuple[int, int, int]:
    """(status entries, award components, award.issue audit entries)."""
    with rt.reading() as session:
        entries = session.scalar(select(func.count()).select_from(StatusEntry)) or 0
        links = session.scalar(select(func.count()).select_from(AwardComponent)) or 0
        audited = session.scalar(select(func.count()).where(AuditEntry.action == "award.issue"))
    return entries, links, audited or 0


def test_a_large_run_signs_in_workers_and_issues_what_one_learner_at_a_time_would(
    pooled: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = pooled
    install_status_lists(rt)
    seed_demo(rt)
    before = len(list_awards(rt, limit=None))
    ids = _cohort(rt, "W")
    with caplog.at_level(logging.WARNING):
        issued = evaluate_learners(rt, ids, actor="t")
    assert "one at a time" not in caplog.text  # the chunk path itself issued them

    per_learner = Counter((a.learner, a.award_type, a.achievement_code) for a in issued)
    assert set(per_learner.values()) == {1}
    _seven_each(issued)
    assert len(list_awards(rt, limit=None)) == before + len(issued)
    verify_all(rt, issued)
    # Each MMS stacks exactly its own learner's COAs, as stored.
    coas = {
        (a.learner, a.achievement_code): a.credential_id for a in issued if a.award_type == "COA"
    }
    for mms in (a for a in issued if a.award_type == "MMS"):
        embedded = mms.credential()["credentialSubject"]["verifiableCredential"]
        assert sorted(c["id"] for c in embedded) == sorted(coas[mms.learner, u] for u in UNITS)
    entries, links, audited = _counts(rt)
    assert links >= 3 * LEARNERS
    assert audited == len(list_awards(rt, limit=None))
    with rt.reading() as session:
        pairs = session.execute(select(StatusEntry.list_id, StatusEntry.index)).all()
    assert len(pairs) == len(set(pairs)) == entries
    # The audit entries and outbox events are the per-learner path's, row for row.
    with rt.reading() as session:
        details = {
            e.target_id: e.detail
            for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "award.issue"))
        }
        events = {
            e.payload["award"]: e.payload
            for e in session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "award.issued"))
        }
    for award in issued:
        assert details[award.id] == {
            "awardType": award.award_type,
            "achievement": award.achievement_code,
            "learner": award.learner,
            "credentialId": award.credential_id,
            "verificationMethod": award.credential()["proof"]["verificationMethod"],
        }
        assert events[award.id] == {
            "award": award.id,
            "awardType": award.award_type,
            "achievement": award.achievement_code,
            "learner": award.learner,
            "credentialId": award.credential_id,
        }
    # Stored text is the compact JSON of what was signed (as the in-process path stores it).
    sample = issued[0]
    text = sample.credential_json
    assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    assert evaluate_learners(rt, ids, actor="t") == []  # a replay issues nothing


def test_a_chunk_that_fails_is_redone_one_learner_at_a_time(
    pooled: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = pooled
    install_status_lists(rt)
    seed_demo(rt)
    ids = _cohort(rt, "F")
    real = ListAllocator(rt)
    # Once, in the 15th learner's awards.
    rt.status_allocator = FailingAllocator(real, fail_on={100})
    with caplog.at_level(logging.WARNING, logger="issuer.services.issuance"):
        issued = evaluate_learners(rt, ids, actor="t")
    assert "issuing them one at a time" in caplog.text
    _seven_each(issued)
    mine = [a for a in list_awards(rt, limit=None) if a.learner.startswith("F")]
    assert sorted(a.id for a in mine) == sorted(a.id for a in issued)
    verify_all(rt, mine)


def test_a_failure_that_persists_is_raised_typed_and_keeps_nothing_of_its_learner(
    pooled: Runtime,
) -> None:
    rt = pooled
    install_status_lists(rt)
    seed_demo(rt)
    ids = _cohort(rt, "P")
    entries_before = _counts(rt)[0]
    # Call 30 fails the chunk; redone one learner (7 allocations) at a time, call 59 is the
    # fifth learner's first: the failure is there again.
    rt.status_allocator = FailingAllocator(ListAllocator(rt), fail_on={30, 59})
    with pytest.raises(StatusAllocationError):
        evaluate_learners(rt, sorted(ids), actor="t")
    # The chunk rolled back; the redo committed the four learners before the failure, each
    # with all 7 awards, and nothing of the learner that failed or those after it.
    mine = [a for a in list_awards(rt, limit=None) if a.learner.startswith("P")]
    held = Counter(a.learner for a in mine)
    assert sorted(held.values()) == [7] * 4
    assert _counts(rt)[0] == entries_before + 7 * 4


def _job(rt: Runtime, *, status_lists: Mapping[str, bytes] | None = None) -> SigningJob:
    """A job for a COC of the demo issuer, as the issuing process would send it."""
    issuer = get_issuer(rt)
    key = signing_key(rt, issuer)
    coc = next(a for a in list_awards(rt, limit=None) if a.award_type == "COC").credential()
    unsigned = {k: v for k, v in coc.items() if k != "proof"}
    unsigned["id"] = unsigned["id"] + "-again"
    urls = [unsigned["credentialStatus"]["statusListCredential"]]
    with rt.reading() as session:
        texts = {url: OwnStatusListFetcher(rt, session).get_bytes(url).body for url in urls}
    return SigningJob(
        unsigned=unsigned,
        key_jwk=key.to_jwk(private=True),
        key_id=key.id,
        key_controller=key.controller,
        cryptosuite=issuer.cryptosuite,
        verification_method=key.id or issuer.verification_method,
        created=rt.now(),
        context=SelfCheckContext(
            key=os.urandom(8).hex(),
            documents=tuple(rt.resolver.pinned_documents()),
            trust=tuple(own_issuers(rt).issuers.values()),
            status_lists=texts if status_lists is None else status_lists,
        ),
    )


def test_a_worker_signs_byte_for_byte_what_the_issuing_process_signs(rt: Runtime) -> None:
    install_status_lists(rt)
    seed_demo(rt)
    job = _job(rt)
    key = signing_key(rt, get_issuer(rt))
    expected = add_proof(
        job.unsigned,
        key,
        cryptosuite=job.cryptosuite,
        verification_method=job.verification_method,
        created=job.created,
    )
    text = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    assert sign_and_check(job) == SignedText(text, job.verification_method)
    assert job.key_jwk["d"] not in repr(job)  # a logged job does not leak the key
    with SigningPool(1) as pool:
        first = pool.submit([job])  # run here while the worker starts
        assert first.result() == [SignedText(text, job.verification_method)]
        pool._ready.wait(60)
        assert pool.submit([job, job]).result() == [SignedText(text, job.verification_method)] * 2


def test_a_worker_reports_a_self_verification_failure_as_data(rt: Runtime) -> None:
    install_status_lists(rt)
    seed_demo(rt)
    result = sign_and_check(_job(rt, status_lists={}))  # the status list is not handed over
    assert isinstance(result, SigningFailure)
    assert result.code == "SELF_VERIFICATION_FAILED"
    assert "is not one of this issuer's status lists" in result.detail


def test_a_dead_worker_breaks_the_pool_with_a_typed_error(rt: Runtime) -> None:
    install_status_lists(rt)
    seed_demo(rt)
    job = _job(rt)
    with SigningPool(1) as pool:
        pool.submit([job]).result()
        assert pool._ready.wait(60)
        assert isinstance(pool.submit([job]).result()[0], SignedText)
        worker = pool._up[0].process
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        with pytest.raises(BrokenPoolError):
            pool.submit([job]).result()
        assert pool.submit([job]).result() == [sign_and_check(job)]  # now signed here


def test_a_worker_killed_between_runs_of_an_import_loses_and_duplicates_nothing(
    pooled: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = pooled
    install_status_lists(rt)
    seed_demo(rt)
    first, second = _cohort(rt, "A"), _cohort(rt, "B")
    with signing_workers(rt):
        assert len(evaluate_learners(rt, first, actor="t")) == 7 * LEARNERS
        pool = issuance._SHARED_POOL.get()
        assert pool is not None
        assert pool._ready.wait(60)  # the run started the shared workers
        worker = pool._up[0].process
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        with caplog.at_level(logging.WARNING, logger="issuer.services.issuance"):
            issued = evaluate_learners(rt, second, actor="t")
    assert "SIGNING_POOL_BROKEN" in caplog.text or "BrokenPoolError" in caplog.text
    _seven_each(issued)
    mine = [a for a in list_awards(rt, limit=None) if a.learner[0] in "AB"]
    assert len(mine) == len({(a.learner, a.award_type, a.achievement_code) for a in mine})
    assert len(mine) == 2 * 7 * LEARNERS
    verify_all(rt, issued)
