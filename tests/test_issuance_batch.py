"""Issuance runs (SQLite and PostgreSQL): one transaction per learner, and what a run reads once
(signing key, trust list, verified status lists) never lets a wrong credential through."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from issuance_support import FailingAllocator, finish, verify_all
from sqlalchemy import func, select

from issuer.db.models import Learner, StatusEntry, StatusList
from issuer.domain.catalogue import LearnerSpec
from issuer.services.awards import list_awards
from issuer.services.catalogue import upsert_learner
from issuer.services.csvimport import import_progress
from issuer.services.demo import seed_demo
from issuer.services.issuance import evaluate_learners
from issuer.services.issuers import get_issuer, rotate_key
from issuer.services.progress import record_progress
from issuer.services.runtime import Runtime
from issuer.services.status import (
    ListAllocator,
    StatusAllocationError,
    install_status_lists,
)


def _learner_id(rt: Runtime, external_id: str) -> int:
    with rt.reading() as session:
        found = session.scalar(select(Learner.id).where(Learner.external_id == external_id))
    assert found is not None
    return found


def _status_rows(rt: Runtime) -> int:
    with rt.reading() as session:
        return session.scalar(select(func.count()).select_from(StatusEntry)) or 0


def test_a_learners_awards_commit_together_or_not_at_all(rt: Runtime) -> None:
    install_status_lists(rt)
    seed_demo(rt)
    upsert_learner(rt, LearnerSpec("S5001", "ali@x.my", "Ali bin Abu"), actor="t")
    record_progress(rt, finish("S5001"), actor="t", evaluate=False)
    learner_id = _learner_id(rt, "S5001")
    entries_before = _status_rows(rt)
    real = ListAllocator(rt)
    rt.status_allocator = FailingAllocator(real, fail_on={7})  # the MMS, after 3 COCs + 3 COAs
    with pytest.raises(StatusAllocationError):
        evaluate_learners(rt, [learner_id], actor="t")
    assert list_awards(rt, learner="S5001", limit=None) == []
    assert _status_rows(rt) == entries_before  # the six allocations rolled back with them

    rt.status_allocator = real
    issued = evaluate_learners(rt, [learner_id], actor="t")
    assert Counter(a.award_type for a in issued) == {"COC": 3, "COA": 3, "MMS": 1}
    assert evaluate_learners(rt, [learner_id], actor="t") == []
    mine = list_awards(rt, learner="S5001", limit=None)
    assert sorted(a.id for a in mine) == sorted(a.id for a in issued)
    verify_all(rt, mine)


def test_status_lists_opened_during_a_run_are_self_verified_from_the_database(
    rt: Runtime,
) -> None:
    # Indices 0, 1, 2, 0, ...: every fourth allocation collides, which closes the list (it is
    # "half full" at two entries), so one run opens a new list every three credentials.
    draws = itertools.cycle(range(3))
    rt.status_allocator = ListAllocator(rt, draw=lambda size: next(draws), full_at=2)
    seed_demo(rt)
    for n in range(3):
        upsert_learner(rt, LearnerSpec(f"S60{n:02d}", f"l{n}@x.my", f"Learner {n}"), actor="t")
    events = [e for n in range(3) for e in finish(f"S60{n:02d}")]
    issued = record_progress(rt, events, actor="t").issued
    assert len(issued) == 3 * 7
    with rt.reading() as session:
        lists = session.scalar(select(func.count()).select_from(StatusList)) or 0
    assert lists >= 3 * 7 // 3
    entries = [
        (entry["statusListCredential"], entry["statusListIndex"])
        for award in issued
        for entry in [award.credential()["credentialStatus"]]
    ]
    assert len(set(entries)) == len(entries)
    verify_all(rt, issued)


def test_a_key_rotated_during_an_import_signs_from_the_next_chunk(rt: Runtime) -> None:
    install_status_lists(rt)
    seed_demo(rt)
    old = get_issuer(rt).verification_method
    rows = ["learner_id,learner_email,learner_name,micro_credential,event,item,score"]
    for n in range(4):
        who = f"S70{n:02d},r{n}@x.my,Rotating {n}"
        rows += [f"{who},ESG201,material_completed,ESG201-M{i}," for i in (1, 2)]
    rotated: list[str] = []

    def after_chunk(rows_done: int) -> None:
        if not rotated:  # after the first chunk (learners S7000 and S7001)
            rotated.append(rotate_key(rt, actor="t", activate=True).verification_method)

    summary = import_progress(
        rt, "\n".join(rows) + "\n", actor="t", chunk=4, on_progress=after_chunk
    )
    assert summary.issued == {"COC": 4}
    signer = {
        a.learner: a.credential()["proof"]["verificationMethod"]
        for a in list_awards(rt, limit=None)
        if a.learner.startswith("S70")
    }
    assert signer == {"S7000": old, "S7001": old, "S7002": rotated[0], "S7003": rotated[0]}
    assert rotated[0] != old
    verify_all(rt, [a for a in list_awards(rt, limit=None) if a.learner.startswith("S70")])
