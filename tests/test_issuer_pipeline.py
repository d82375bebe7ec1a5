"""The issuance pipeline on SQLite and PostgreSQL: demo, idempotency, self-verification,
key rotation, unique awards, append-only audit log, migrations."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from issuer.db.models import AuditEntry, Award, Base, Learner
from issuer.domain.catalogue import LearnerSpec
from issuer.domain.progress import ProgressEvent
from issuer.services.audit import list_audit
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_learner
from issuer.services.demo import seed_demo
from issuer.services.issuance import evaluate_learners, own_issuers
from issuer.services.issuers import (
    IssuerSpec,
    KeyRotationUnsupportedError,
    create_issuer,
    did_document,
    rotate_key,
)
from issuer.services.progress import record_progress
from issuer.services.runtime import OfflineFetcher, Runtime
from verifier.report import verify_credential


def _verify(rt: Runtime, credential: dict[str, object]) -> None:
    """Verify as a relying party would: the verifier's full report, did:web pinned."""
    report = verify_credential(
        credential, resolver=rt.resolver, fetcher=OfflineFetcher(), trust=own_issuers(rt)
    )
    assert report.verified, report.to_dict()["errors"]
    assert report.checks["schema"].status == "passed"
    assert report.checks["proof"].status == "passed"


def _counts(rt: Runtime) -> dict[str, int]:
    with rt.reading() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_migrations_match_models(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_demo_issues_coc_coa_mms_and_twice_changes_nothing(rt: Runtime) -> None:
    first = seed_demo(rt)
    assert first.by_type == {"COC": 7, "COA": 4, "MMS": 1}
    assert first.newly_issued == 12
    before = _counts(rt)
    second = seed_demo(rt)
    assert second.newly_issued == 0
    assert _counts(rt) == before
    assert [a.credential_json for a in second.awards] == [a.credential_json for a in first.awards]


def test_every_stored_credential_verifies_and_follows_the_schema(rt: Runtime) -> None:
    seed_demo(rt)
    awards = list_awards(rt, limit=None)
    assert awards
    for award in awards:
        credential = award.credential()
        _verify(rt, credential)
        assert json.dumps(credential, ensure_ascii=False, separators=(",", ":")) == (
            award.credential_json
        )
    (mms,) = [a for a in awards if a.award_type == "MMS"]
    embedded = mms.credential()["credentialSubject"]["verifiableCredential"]
    coas = {a.credential_id: a.credential() for a in awards if a.award_type == "COA"}
    assert all(coas[c["id"]] == c for c in embedded)  # embedded verbatim
    report = verify_credential(
        mms.credential(), resolver=rt.resolver, fetcher=OfflineFetcher(), trust=own_issuers(rt)
    )
    assert report.checks["stacking"].status == "passed"
    assert len(report.parts) == 3
    assert all(p.verified for p in report.parts)


def test_mms_only_when_every_component_coa_is_held(rt: Runtime) -> None:
    seed_demo(rt)
    upsert_learner(rt, LearnerSpec("S2001", "nur@x.my", "Nur Aisyah"), actor="t")

    def finish(mc: str) -> list[ProgressEvent]:
        return [
            ProgressEvent("S2001", mc, "material_completed", f"{mc}-M1"),
            ProgressEvent("S2001", mc, "material_completed", f"{mc}-M2"),
            ProgressEvent("S2001", mc, "assessment_result", f"{mc}-QZ", Decimal(70)),
            ProgressEvent("S2001", mc, "assessment_result", f"{mc}-PJ", Decimal(70)),
        ]

    out = record_progress(rt, finish("DAF101") + finish("DVZ102"), actor="t")
    assert sorted(a.award_type for a in out.issued) == ["COA", "COA", "COC", "COC"]
    out = record_progress(rt, finish("PYD103"), actor="t")
    assert sorted(a.award_type for a in out.issued) == ["COA", "COC", "MMS"]


def test_failed_assessment_gives_coc_but_no_coa_until_passed(rt: Runtime) -> None:
    seed_demo(rt)
    assert {a.award_type for a in list_awards(rt, learner="S1003", limit=None)} >= {"COC"}
    assert not [
        a
        for a in list_awards(rt, learner="S1003", award_type="COA")
        if a.achievement_code == "DAF101"
    ]
    retake = ProgressEvent("S1003", "DAF101", "assessment_result", "DAF101-PJ", Decimal(61))
    out = record_progress(rt, [retake], actor="t")
    assert [(a.award_type, a.achievement_code) for a in out.issued] == [("COA", "DAF101")]
    lower = ProgressEvent("S1003", "DAF101", "assessment_result", "DAF101-PJ", Decimal(10))
    assert record_progress(rt, [lower], actor="t").recorded == 0  # best score is kept


def test_award_unique_constraint_refuses_a_second_copy(rt: Runtime) -> None:
    seed_demo(rt)
    original = list_awards(rt, award_type="COA", limit=1)[0]
    with rt.reading() as session:
        row = session.get(Award, original.id)
        assert row is not None
        duplicate = Award(
            id="00000000-0000-0000-0000-000000000000",
            learner_id=row.learner_id,
            award_type=row.award_type,
            achievement_code=row.achievement_code,
            issuer_id=row.issuer_id,
            credential_id="urn:dup",
            credential_json="{}",
            issued_at=row.issued_at,
        )
    with rt.sessions() as session:
        session.add(duplicate)
        with pytest.raises(IntegrityError):
            session.commit()


def test_audit_log_records_issuance_and_is_append_only(rt: Runtime) -> None:
    seed_demo(rt)
    actions = {e.action for e in list_audit(rt, limit=1000)}
    assert {"issuer.create", "award.issue", "micro_credential.upsert", "learner.upsert"} <= actions
    with pytest.raises(DBAPIError), rt.transaction() as session:
        session.execute(text("UPDATE audit_log SET actor = 'mallory'"))
    with pytest.raises(DBAPIError), rt.transaction() as session:
        session.execute(text("DELETE FROM audit_log"))
    with rt.reading() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.actor == "mallory")) == 0


def test_key_rotation_keeps_old_credentials_verifying(rt: Runtime) -> None:
    seed_demo(rt)
    old = list_awards(rt, limit=None)
    rotated = rotate_key(rt, actor="t", activate=True)
    assert len(rotated.verification_methods) == 2
    doc = did_document(rt)
    assert [vm["id"] for vm in doc["verificationMethod"]] == list(rotated.verification_methods)
    assert doc["assertionMethod"] == list(rotated.verification_methods)
    upsert_learner(rt, LearnerSpec("S3001", "lim@x.my", "Lim Mei Ling 林美玲"), actor="t")
    events = [
        ProgressEvent("S3001", "ESG201", "material_completed", f"ESG201-M{i}") for i in (1, 2)
    ]
    (new,) = record_progress(rt, events, actor="t").issued
    assert new.credential()["proof"]["verificationMethod"] == rotated.verification_method
    assert old[0].credential()["proof"]["verificationMethod"] == rotated.verification_methods[1]
    for award in [*old, new]:
        _verify(rt, award.credential())
    assert "key.rotate" in {e.action for e in list_audit(rt)}


def test_did_key_issuer_cannot_rotate(rt: Runtime) -> None:
    seed_demo(rt)
    spec = IssuerSpec("partner", "Partner", "https://p.example", "p@p.my", did_method="key")
    view = create_issuer(rt, spec, actor="t")
    assert view.did.startswith("did:key:z6Mk")
    with pytest.raises(KeyRotationUnsupportedError):
        rotate_key(rt, "partner", actor="t")


def test_concurrent_evaluations_never_double_issue(rt: Runtime) -> None:
    seed_demo(rt)
    learners = [LearnerSpec(f"S8{i:03d}", f"c{i}@x.my", f"Concurrent {i}") for i in range(4)]
    events: list[ProgressEvent] = []
    for spec in learners:
        upsert_learner(rt, spec, actor="t")
        events += [
            ProgressEvent(spec.external_id, "ESG201", "material_completed", f"ESG201-M{i}")
            for i in (1, 2)
        ]
        events += [
            ProgressEvent(
                spec.external_id, "ESG201", "assessment_result", f"ESG201-{a}", Decimal(90)
            )
            for a in ("QZ", "PJ")
        ]
    record_progress(rt, events, actor="t", evaluate=False)
    with rt.reading() as session:
        ids = list(session.scalars(select(Learner.id).where(Learner.external_id.like("S8%"))))

    runtimes = [open_runtime(rt.settings), open_runtime(rt.settings)]

    def work(slot: int) -> list[str]:
        return [a.id for a in evaluate_learners(runtimes[slot], ids, actor=f"w{slot}")]

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(work, (0, 1)))
    finally:
        for other in runtimes:
            other.close()
    assert set(results[0]).isdisjoint(results[1])
    issued = list_awards(rt, award_type=None, limit=None)
    mine = [a for a in issued if a.learner.startswith("S8")]
    assert len(mine) == 8  # COC + COA per learner, exactly once
    assert sorted(results[0] + results[1]) == sorted(a.id for a in mine)
