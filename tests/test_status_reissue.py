"""Re-issue after revocation: replace a revoked COA, then supersede the MMS stacking it.

Runs on SQLite and PostgreSQL (``rt`` fixture). The demo is issued by the real pipeline with
status lists on; verdicts come from the verifier's own report against the issuer's published
lists (pinned through ``MappingFetcher``). Also through the admin HTTP API (Flask test client)
and the CLI (Click's runner).
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from issuer_web_support import auth
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contexts.errors import MalformedValueError
from issuer.db.models import Award, StatusList
from issuer.domain.awards import NotEligibleError
from issuer.domain.catalogue import MaterialSpec
from issuer.domain.progress import ProgressEvent
from issuer.services.audit import list_audit
from issuer.services.awards import get_award, list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import get_micro_credential, upsert_micro_credential
from issuer.services.demo import demo_events, seed_demo
from issuer.services.issuance import evaluate_learner, own_issuers
from issuer.services.issuers import ensure_default_issuer
from issuer.services.progress import record_progress
from issuer.services.reissue import (
    ReissueNotAllowedError,
    ReplacementMissingError,
    reissue,
    reissue_candidates,
)
from issuer.services.runtime import Runtime
from issuer.services.status import (
    StatusTransitionError,
    change_status,
    install_status_lists,
    published_list,
    set_suspension_enabled,
)
from issuer.services.tokens import create_token
from issuer.web.app import create_app
from verifier.fetchers import MappingFetcher
from verifier.report import VerificationReport, verify_credential


@pytest.fixture
def srt(rt: Runtime) -> Runtime:
    """The ``rt`` fixture with status lists on, suspension on and the demo issued."""
    install_status_lists(rt)
    ensure_default_issuer(rt, actor="t")
    set_suspension_enabled(rt, None, True, actor="t")
    seed_demo(rt)
    return rt


def _report(rt: Runtime, credential: dict[str, object]) -> VerificationReport:
    with rt.reading() as session:
        ids = list(session.scalars(select(StatusList.id)))
    base = rt.settings.base_url
    lists = {f"{base}/status/{i}": json.loads(published_list(rt, i).body) for i in ids}
    # No schema check: with suspension on the credentials carry two status entries, which the
    # OB/CLR schema does not allow (documented; schemas are tested in test_conformance_issue_*).
    return verify_credential(
        credential,
        resolver=rt.resolver,
        fetcher=MappingFetcher(lists),
        trust=own_issuers(rt),
        check_schema=False,
    )


def _one(rt: Runtime, award_type: str, learner: str = "S1001", code: str | None = None) -> str:
    found = [
        a
        for a in list_awards(rt, learner=learner, award_type=award_type, status="active")
        if code is None or a.achievement_code == code
    ]
    return found[0].id


def _count(rt: Runtime, award_type: str, code: str, learner: str = "S1001") -> int:
    """How many awards (any status) the learner has for the achievement."""
    return len(
        [
            a
            for a in list_awards(rt, learner=learner, award_type=award_type, limit=None)
            if a.achievement_code == code
        ]
    )


def test_revoke_coa_reissue_coa_then_mms_the_new_mms_verifies(srt: Runtime) -> None:
    coa = _one(srt, "COA", code="DAF101")
    mms = _one(srt, "MMS")
    (change,) = change_status(srt, [coa], "revoke", reason="issued in error", actor="t")
    assert change.stacked_in == (mms,)
    assert change.reissue == ()  # no replacement COA yet: nothing to offer
    broken = _report(srt, get_award(srt, mms).credential())
    assert not broken.verified
    assert broken.checks["stacking"].status == "failed"
    assert reissue_candidates(srt) == []
    with pytest.raises(ReplacementMissingError) as missing:
        reissue(srt, mms, reason="replace", actor="t")
    assert missing.value.code == "REPLACEMENT_MISSING"
    assert missing.value.extra["missing"] == ["DAF101"]

    new_coa = reissue(srt, coa, reason="corrected record", actor="t")
    assert new_coa.created
    assert not new_coa.superseded
    assert new_coa.award.award_type == "COA"
    assert new_coa.award.replaces == coa
    assert _report(srt, new_coa.award.credential()).verdict == "valid"
    assert [o.award_id for o in new_coa.offers] == [mms]
    assert new_coa.offers[0].replacements == (new_coa.award.id,)
    assert new_coa.offers[0].revoked == (coa,)
    assert get_award(srt, coa).replaced_by == new_coa.award.id
    offered = get_award(srt, mms).reissue
    assert offered is not None
    assert offered.href == f"/awards/{mms}/reissue"
    assert [o.award_id for o in reissue_candidates(srt)] == [mms]

    new_mms = reissue(srt, mms, reason="stack the corrected COA", actor="t")
    assert new_mms.created
    assert new_mms.superseded
    assert new_mms.award.replaces == mms
    report = _report(srt, new_mms.award.credential())
    assert report.verdict == "valid", report.to_dict()
    assert report.checks["stacking"].status == "passed"
    embedded = new_mms.award.credential()["credentialSubject"]["verifiableCredential"]
    assert new_coa.award.credential_id in {c["id"] for c in embedded}
    assert get_award(srt, coa).credential_id not in {c["id"] for c in embedded}
    old = get_award(srt, mms)
    assert old.status == "revoked"
    assert old.replaced_by == new_mms.award.id
    assert _report(srt, old.credential()).verdict == "revoked"
    with srt.reading() as session:
        row = session.get(Award, mms)
        assert row is not None
        assert row.status_reason == f"superseded by {new_mms.award.id}"
    assert reissue_candidates(srt) == []
    assert get_award(srt, new_mms.award.id).reissue is None

    # idempotent: no duplicate on repeat
    again_mms = reissue(srt, mms, reason="again", actor="t")
    again_coa = reissue(srt, coa, reason="again", actor="t")
    assert (again_mms.created, again_mms.award.id) == (False, new_mms.award.id)
    assert (again_coa.created, again_coa.award.id) == (False, new_coa.award.id)
    assert _count(srt, "MMS", "PCDA") == 2
    assert _count(srt, "COA", "DAF101") == 2
    reissues = list_audit(srt, action="award.reissue")
    assert sorted(e.target_id for e in reissues) == sorted([coa, mms])
    supersede = [e for e in list_audit(srt, action="award.revoke") if e.target_id == mms]
    assert supersede[0].detail["reason"] == f"superseded by {new_mms.award.id}"


def test_progress_import_never_reissues_a_revoked_award_on_its_own(srt: Runtime) -> None:
    coa = _one(srt, "COA", code="PYD103")
    coc = _one(srt, "COC", code="ESG201")
    change_status(srt, [coa, coc], "revoke", reason="issued in error", actor="t")
    replay = record_progress(srt, [e for e in demo_events() if e.learner == "S1001"], actor="t")
    assert replay.issued == []
    assert evaluate_learner(srt, "S1001", actor="t") == []
    assert _count(srt, "COA", "PYD103") == 1
    assert _count(srt, "COC", "ESG201") == 1
    assert get_award(srt, coa).status == "revoked"


def test_replacement_coa_counts_toward_a_first_mms(srt: Runtime) -> None:
    """A learner whose COA was revoked before any MMS existed gets the MMS once replaced."""
    coa = _one(srt, "COA", code="DAF101")
    mms = _one(srt, "MMS")
    change_status(srt, [coa, mms], "revoke", reason="issued in error", actor="t")
    with pytest.raises(NotEligibleError) as not_due:
        reissue(srt, mms, reason="try", actor="t")
    assert not_due.value.code == "NOT_ELIGIBLE"
    new_coa = reissue(srt, coa, reason="corrected", actor="t")
    assert new_coa.offers == ()  # the MMS is revoked, not offered for superseding
    assert evaluate_learner(srt, "S1001", actor="t") == []  # revoked MMS is not re-issued alone
    new_mms = reissue(srt, mms, reason="programme complete again", actor="t")
    assert new_mms.created
    assert not new_mms.superseded
    assert _report(srt, new_mms.award.credential()).verdict == "valid"


def test_reissue_of_a_revoked_coa_the_rules_no_longer_make_due_is_not_eligible(
    srt: Runtime,
) -> None:
    coa = _one(srt, "COA", code="DVZ102")
    change_status(srt, [coa], "revoke", reason="issued in error", actor="t")
    spec = get_micro_credential(srt, "DVZ102")
    extra = MaterialSpec("DVZ102-M3", "Module 3: new requirement")
    upsert_micro_credential(
        srt, dataclasses.replace(spec, materials=(*spec.materials, extra)), actor="t"
    )
    with pytest.raises(NotEligibleError) as caught:
        reissue(srt, coa, reason="try", actor="t")
    assert caught.value.code == "NOT_ELIGIBLE"
    assert _count(srt, "COA", "DVZ102") == 1


def test_reissue_refuses_active_awards_and_empty_reasons(srt: Runtime) -> None:
    for award_id in (_one(srt, "COA"), _one(srt, "COC"), _one(srt, "MMS")):
        with pytest.raises(ReissueNotAllowedError) as caught:
            reissue(srt, award_id, reason="why not", actor="t")
        assert caught.value.code == "REISSUE_NOT_ALLOWED"
        assert caught.value.http_status == 409
    with pytest.raises(MalformedValueError) as blank:
        reissue(srt, _one(srt, "COA"), reason="  ", actor="t")
    assert blank.value.pointer == "/reason"


def test_one_unrevoked_award_per_achievement_is_enforced_by_the_database(srt: Runtime) -> None:
    coa = _one(srt, "COA", code="DAF101")

    def _copy(status: str) -> None:
        with srt.transaction() as session:
            row = session.get(Award, coa)
            assert row is not None
            suffix = status[:3]
            session.add(
                Award(
                    id=f"{coa[:-3]}{suffix}",
                    learner_id=row.learner_id,
                    award_type=row.award_type,
                    achievement_code=row.achievement_code,
                    issuer_id=row.issuer_id,
                    credential_id=f"{row.credential_id}-{suffix}",
                    credential_json="{}",
                    issued_at=row.issued_at,
                    status=status,
                )
            )

    _copy("revoked")  # history rows do not count
    with pytest.raises(IntegrityError):
        _copy("active")
    with pytest.raises(IntegrityError):
        _copy("suspended")


def test_admin_api_revoke_offer_reissue_and_candidates(srt: Runtime) -> None:
    client = create_app(runtime=srt).test_client()
    admin = auth(create_token(srt, ["admin"], actor="t")[1])
    read = auth(create_token(srt, ["read"], actor="t")[1])
    coa = _one(srt, "COA", code="DAF101")
    mms = _one(srt, "MMS")
    body = {"reason": "issued in error"}
    revoked = client.post(f"/awards/{coa}/revoke", json=body, headers=admin).get_json()
    assert revoked["items"][0]["stackedIn"] == [mms]
    assert revoked["items"][0]["reissue"] == []
    assert client.post(f"/awards/{coa}/reissue", json=body, headers=read).status_code == 403
    assert client.get("/awards/reissue-candidates", headers=read).status_code == 403
    refused = client.post(f"/awards/{mms}/reissue", json=body, headers=admin)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "REPLACEMENT_MISSING"
    assert refused.get_json()["missing"] == ["DAF101"]

    keyed = {**admin, "Idempotency-Key": "reissue-daf101"}
    first = client.post(f"/awards/{coa}/reissue", json=body, headers=keyed)
    assert first.status_code == 201, first.get_json()
    new_coa = first.get_json()
    assert (new_coa["awardType"], new_coa["replaces"], new_coa["created"]) == ("COA", coa, True)
    assert [o["award"] for o in new_coa["offers"]] == [mms]
    replayed = client.post(f"/awards/{coa}/reissue", json=body, headers=keyed)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json()["id"] == new_coa["id"]
    repeat = client.post(f"/awards/{coa}/reissue", json=body, headers=admin)
    assert repeat.status_code == 200
    assert (repeat.get_json()["id"], repeat.get_json()["created"]) == (new_coa["id"], False)

    candidates = client.get("/awards/reissue-candidates", headers=admin)
    assert candidates.status_code == 200
    (offer,) = candidates.get_json()["items"]
    assert (offer["award"], offer["replacements"]) == (mms, [new_coa["id"]])
    shown = client.get(f"/awards/{mms}", headers=read).get_json()
    assert shown["reissue"]["href"] == f"/awards/{mms}/reissue"
    assert client.get(f"/awards/{coa}", headers=read).get_json()["replacedBy"] == new_coa["id"]

    done = client.post(shown["reissue"]["href"], json={"reason": "stack the fix"}, headers=admin)
    assert done.status_code == 201, done.get_json()
    new_mms = done.get_json()
    assert (new_mms["awardType"], new_mms["superseded"]) == ("MMS", True)
    assert _report(srt, get_award(srt, new_mms["id"]).credential()).verdict == "valid"
    old = client.get(f"/awards/{mms}", headers=read).get_json()
    assert (old["status"], old["replacedBy"]) == ("revoked", new_mms["id"])
    assert client.get("/awards/reissue-candidates", headers=admin).get_json()["items"] == []
    active_coc = _one(srt, "COC")
    not_allowed = client.post(f"/awards/{active_coc}/reissue", json=body, headers=admin)
    assert not_allowed.status_code == 409
    assert not_allowed.get_json()["code"] == "REISSUE_NOT_ALLOWED"
    assert client.post("/awards/nope/reissue", json=body, headers=admin).status_code == 404


def test_admin_api_suspension_switch_affects_only_new_credentials(srt: Runtime) -> None:
    client = create_app(runtime=srt).test_client()
    admin = auth(create_token(srt, ["admin"], actor="t")[1])
    slug = client.get("/issuers", headers=admin).get_json()[0]["slug"]
    assert client.get(f"/issuers/{slug}", headers=admin).get_json()["suspensionEnabled"] is True
    off = client.patch(f"/issuers/{slug}", json={"suspensionEnabled": False}, headers=admin)
    assert off.status_code == 200
    assert off.get_json()["suspensionEnabled"] is False
    assert (
        client.patch(
            f"/issuers/{slug}", json={"suspensionEnabled": "no"}, headers=admin
        ).status_code
        == 422
    )
    audited = list_audit(srt, action="issuer.suspension")
    # newest first: this test turned suspension off, the fixture had turned it on
    assert [(e.target_id, e.detail["suspensionEnabled"]) for e in audited] == [
        (slug, False),
        (slug, True),
    ]
    again = client.patch(f"/issuers/{slug}", json={"suspensionEnabled": False}, headers=admin)
    assert again.status_code == 200
    assert len(list_audit(srt, action="issuer.suspension")) == 2  # unchanged: not audited

    older = _one(srt, "COA")
    event = ProgressEvent("S1004", "PYD103", "material_completed", "PYD103-M2")
    (new_coc,) = record_progress(srt, [event], actor="t").issued
    status = new_coc.credential()["credentialStatus"]
    assert isinstance(status, dict)  # one entry: an object, as OB 3.0 requires
    assert status["statusPurpose"] == "revocation"
    assert _report(srt, new_coc.credential()).verdict == "valid"
    # an award issued before the switch keeps its suspension entry and can still be suspended
    change_status(srt, [older], "suspend", reason="review", actor="t")
    assert _report(srt, get_award(srt, older).credential()).verdict == "suspended"
    with pytest.raises(StatusTransitionError):
        change_status(srt, [new_coc.id], "suspend", reason="review", actor="t")
    on = client.patch(
        f"/issuers/{slug}", json={"suspensionEnabled": True, "name": "Renamed"}, headers=admin
    )
    assert (on.get_json()["suspensionEnabled"], on.get_json()["name"]) == (True, "Renamed")
    missing = client.patch("/issuers/no-such", json={"suspensionEnabled": True}, headers=admin)
    assert missing.status_code == 404


def test_cli_reissue_candidates_and_suspension_switch(
    srt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from issuer.cli import cli

    settings = srt.settings
    monkeypatch.setenv("SIJIL_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIJIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIJIL_BASE_URL", settings.base_url)
    monkeypatch.setenv("SIJIL_KEY_PASSPHRASE", settings.key_passphrase)
    monkeypatch.setenv("SIJIL_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    coa = _one(srt, "COA", code="PYD103")
    mms = _one(srt, "MMS")

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == code, result.output
        return result.output

    assert f"MMS {mms} embeds it" in run("awards", "revoke", coa, "--reason", "error")
    assert "REPLACEMENT_MISSING" in run("awards", "reissue", mms, "--reason", "x", code=1)
    out = run("awards", "reissue", coa, "--reason", "corrected")
    assert f"{coa}\t-> " in out
    assert "(re-issued)" in out
    assert f"MMS {mms} can be re-issued" in out
    listed = run("awards", "reissue", "--candidates")
    assert listed.startswith(f"{mms}\tS1001\tPCDA\trevoked {coa}")
    superseded = run("awards", "reissue", mms, "--reason", "stack the fix")
    new_mms = get_award(srt, mms).replaced_by
    assert new_mms is not None
    assert f"superseded by {new_mms}" in superseded
    assert "(already re-issued)" in run("awards", "reissue", mms, "--reason", "again")
    assert run("awards", "reissue", "--candidates").startswith("0 MMS")
    run("awards", "reissue", mms, code=2)  # no --reason: usage error
    assert "suspension enabled" in run("issuers", "suspension")
    assert "suspension disabled" in run("issuers", "suspension", "--disable")
    assert "suspension disabled" in run("issuers", "suspension")
    assert "NOT_FOUND" in run("issuers", "suspension", "--issuer", "nope", "--enable", code=1)


def test_concurrent_reissues_of_one_award_store_one_replacement(srt: Runtime) -> None:
    coa = _one(srt, "COA", code="DAF101")
    change_status(srt, [coa], "revoke", reason="issued in error", actor="t")
    runtimes = [install_status_lists(open_runtime(srt.settings)) for _ in range(2)]

    def work(slot: int) -> tuple[str, bool]:
        outcome = reissue(runtimes[slot], coa, reason="race", actor=f"w{slot}")
        return outcome.award.id, outcome.created

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(work, (0, 1)))
    finally:
        for other in runtimes:
            other.close()
    assert len({award_id for award_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    assert _count(srt, "COA", "DAF101") == 2
    assert len(list_audit(srt, action="award.reissue")) == 1
