"""Issuer-side Bitstring Status Lists: allocation, publishing, revoke / suspend / unsuspend.

Runs on SQLite and PostgreSQL (``rt`` fixture). Credentials are issued by the real pipeline
(the demo seed) with status lists switched on, and checked by the verifier's code against the
issuer's published lists (pinned through ``MappingFetcher``).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from issuer_web_support import auth
from sqlalchemy import func, select

from issuer.db.models import Award, StatusEntry, StatusList
from issuer.services.audit import list_audit
from issuer.services.awards import get_award, list_awards
from issuer.services.demo import seed_demo
from issuer.services.errors import NotFoundError
from issuer.services.issuance import own_issuers, sign_credential
from issuer.services.issuers import ensure_default_issuer
from issuer.services.runtime import Runtime
from issuer.services.status import (
    LIST_SIZE,
    ListAllocator,
    StatusTransitionError,
    change_status,
    install_status_lists,
    list_id_from_url,
    published_list,
    set_suspension_enabled,
)
from issuer.services.tokens import create_token
from issuer.web.app import create_app
from verifier.bitstring import decode_list
from verifier.fetchers import MappingFetcher
from verifier.report import verify_credential


@pytest.fixture
def srt(rt: Runtime) -> Runtime:
    """The ``rt`` fixture with status lists on, suspension on (two entries per credential) and
    the demo issued."""
    install_status_lists(rt)
    ensure_default_issuer(rt, actor="t")
    set_suspension_enabled(rt, None, True, actor="t")
    seed_demo(rt)
    return rt


def _lists(rt: Runtime) -> dict[str, object]:
    with rt.reading() as session:
        ids = list(session.scalars(select(StatusList.id)))
    base = rt.settings.base_url
    return {f"{base}/status/{i}": json.loads(published_list(rt, i).body) for i in ids}


def _verdict(rt: Runtime, credential: dict[str, object]) -> str:
    """The verdict on status and proof. The OB/CLR schema is not checked here: it allows one
    ``credentialStatus`` and these credentials carry two (suspension on, a documented trade-off;
    the schema is tested in ``test_conformance_issue_awards.py``)."""
    fetcher = MappingFetcher(_lists(rt))
    return verify_credential(
        credential,
        resolver=rt.resolver,
        fetcher=fetcher,
        trust=own_issuers(rt),
        check_schema=False,
    ).verdict


def _coa(rt: Runtime) -> str:
    return list_awards(rt, learner="S1001", award_type="COA")[0].id


def test_every_issued_credential_has_revocation_and_suspension_entries(srt: Runtime) -> None:
    awards = list_awards(srt, limit=None)
    assert awards
    seen: set[tuple[str, str]] = set()
    for award in awards:
        entries = award.credential()["credentialStatus"]
        assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
        for entry in entries:
            url = entry["statusListCredential"]
            assert entry["type"] == "BitstringStatusListEntry"
            assert entry["id"] == f"{url}#{entry['statusListIndex']}"
            assert entry["statusListIndex"].isdigit()
            assert 0 <= int(entry["statusListIndex"]) < LIST_SIZE
            assert list_id_from_url(srt.settings.base_url, url) is not None
            seen.add((url, entry["statusListIndex"]))
        assert _verdict(srt, award.credential()) == "valid"
    assert len(seen) == 2 * len(awards)


def test_published_list_is_a_signed_bitstring_status_list_of_131072_zero_bits(
    srt: Runtime,
) -> None:
    for url, doc in _lists(srt).items():
        assert isinstance(doc, dict)
        assert doc["id"] == url
        assert "BitstringStatusListCredential" in doc["type"]
        subject = doc["credentialSubject"]
        assert subject["type"] == "BitstringStatusList"
        assert subject["statusPurpose"] in ("revocation", "suspension")
        bits = decode_list(subject["encodedList"])
        assert bits.entries() == LIST_SIZE
        assert not any(bits.is_set(i) for i in range(0, LIST_SIZE, 97))
        assert doc["proof"]["proofPurpose"] == "assertionMethod"


def test_revoke_sets_the_bit_audits_and_the_verifier_sees_revoked(srt: Runtime) -> None:
    award_id = _coa(srt)
    changes = change_status(srt, [award_id], "revoke", reason="issued in error", actor="t")
    assert [c.changed for c in changes] == [True]
    view = get_award(srt, award_id)
    assert view.status == "revoked"
    assert _verdict(srt, view.credential()) == "revoked"
    revocations = [a for a in list_audit(srt, action="award.revoke") if a.target_id == award_id]
    assert len(revocations) == 1


def test_revoking_twice_is_idempotent_and_audited_once(srt: Runtime) -> None:
    award_id = _coa(srt)
    change_status(srt, [award_id], "revoke", reason="error", actor="t")
    again = change_status(srt, [award_id], "revoke", reason="error", actor="t")
    assert [c.changed for c in again] == [False]
    assert len(list_audit(srt, action="award.revoke")) == 1


def test_suspend_and_unsuspend_flip_the_verdict_both_ways(srt: Runtime) -> None:
    award_id = _coa(srt)
    credential = get_award(srt, award_id).credential()
    change_status(srt, [award_id], "suspend", reason="under review", actor="t")
    assert _verdict(srt, credential) == "suspended"
    change_status(srt, [award_id], "unsuspend", reason="cleared", actor="t")
    assert _verdict(srt, credential) == "valid"
    assert get_award(srt, award_id).status == "active"


def test_revoked_coa_makes_the_mms_fail_stacking(srt: Runtime) -> None:
    mms = list_awards(srt, learner="S1001", award_type="MMS")[0]
    assert _verdict(srt, mms.credential()) == "valid"
    changes = change_status(srt, [_coa(srt)], "revoke", reason="error", actor="t")
    assert changes[0].stacked_in == (mms.id,)
    fetcher = MappingFetcher(_lists(srt))
    report = verify_credential(
        mms.credential(),
        resolver=srt.resolver,
        fetcher=fetcher,
        trust=own_issuers(srt),
        check_schema=False,
    )
    assert not report.verified
    assert report.checks["stacking"].status == "failed"


def test_suspending_a_revoked_award_is_refused(srt: Runtime) -> None:
    award_id = _coa(srt)
    change_status(srt, [award_id], "revoke", reason="error", actor="t")
    with pytest.raises(StatusTransitionError) as caught:
        change_status(srt, [award_id], "suspend", reason="x", actor="t")
    assert caught.value.code == "STATUS_TRANSITION_NOT_ALLOWED"


def test_batch_with_an_unknown_award_changes_nothing(srt: Runtime) -> None:
    award_id = _coa(srt)
    with pytest.raises(NotFoundError):
        change_status(srt, [award_id, "no-such-award"], "revoke", reason="x", actor="t")
    assert get_award(srt, award_id).status == "active"


def test_full_list_is_closed_and_a_new_list_opened(rt: Runtime) -> None:
    view = ensure_default_issuer(rt, actor="t")
    allocator = ListAllocator(rt, draw=lambda _size: 7, full_at=1)
    with rt.transaction() as session:
        first = allocator.allocate(session, view.id, "revocation", "urn:a")
        second = allocator.allocate(session, view.id, "revocation", "urn:b")
    assert first[1] == second[1] == 7
    assert first[0] != second[0]
    with rt.reading() as session:
        full = session.scalar(select(StatusList.is_full).where(StatusList.id == first[0]))
        count = session.scalar(select(func.count()).select_from(StatusEntry))
    assert full is True
    assert count == 2


def test_vc_api_signed_credential_gets_status_entries(rt: Runtime) -> None:
    install_status_lists(rt)
    view = ensure_default_issuer(rt, actor="t")
    signed = sign_credential(
        rt,
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:5b3c5c52-0d7c-4a36-8f7e-2d0c8a7b1e01",
            "type": ["VerifiableCredential"],
            "issuer": view.did,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner"},
        },
        actor="t",
    )
    status = signed["credentialStatus"]  # suspension is off by default: one entry
    assert isinstance(status, dict)
    assert status["statusPurpose"] == "revocation"
    assert _verdict(rt, signed) == "valid"


def test_status_list_route_serves_etag_max_age_and_304(srt: Runtime) -> None:
    client = create_app(runtime=srt).test_client()
    with srt.reading() as session:
        list_id = session.scalars(select(StatusList.id)).first()
    first = client.get(f"/status/{list_id}")
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("application/vc+ld+json")
    assert "max-age=60" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    assert json.loads(first.get_data())["id"].endswith(f"/status/{list_id}")
    again = client.get(f"/status/{list_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert client.get("/status/999999").status_code == 404


def test_admin_routes_revoke_and_batch_need_admin_scope(srt: Runtime) -> None:
    client = create_app(runtime=srt).test_client()
    admin = create_token(srt, ["admin"], actor="t")[1]
    read = create_token(srt, ["read"], actor="t")[1]
    award_id = _coa(srt)
    body = {"reason": "issued in error"}
    refused = client.post(f"/awards/{award_id}/revoke", json=body, headers=auth(read))
    assert refused.status_code == 403
    with srt.reading() as session:
        list_id = session.scalars(select(StatusList.id).order_by(StatusList.id)).first()
    etag = client.get(f"/status/{list_id}").headers["ETag"]
    done = client.post(f"/awards/{award_id}/revoke", json=body, headers=auth(admin))
    assert done.status_code == 200
    assert done.get_json()["items"][0]["status"] == "revoked"
    assert client.get(f"/status/{list_id}").headers["ETag"] != etag
    others = [a.id for a in list_awards(srt, award_type="COC")]
    batch = client.post(
        "/awards/status",
        json={"action": "suspend", "awards": others, "reason": "review"},
        headers=auth(admin),
    )
    assert batch.status_code == 200
    assert {i["status"] for i in batch.get_json()["items"]} == {"suspended"}
    missing_reason = client.post(f"/awards/{award_id}/suspend", json={}, headers=auth(admin))
    assert missing_reason.status_code == 422
    conflict = client.post(f"/awards/{award_id}/suspend", json=body, headers=auth(admin))
    assert conflict.status_code == 409


def test_cli_revoke_suspend_unsuspend(srt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from issuer.cli import cli

    settings = srt.settings
    monkeypatch.setenv("SIJIL_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIJIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIJIL_BASE_URL", settings.base_url)
    monkeypatch.setenv("SIJIL_KEY_PASSPHRASE", settings.key_passphrase)
    monkeypatch.setenv("SIJIL_SECRET_KEY", settings.secret_key)
    award_id = _coa(srt)
    runner = CliRunner()
    for action, status in (
        ("suspend", "suspended"),
        ("unsuspend", "active"),
        ("revoke", "revoked"),
    ):
        result = runner.invoke(cli, ["awards", action, award_id, "--reason", "cli test"])
        assert result.exit_code == 0, result.output
        assert f"-> {status}" in result.output
    no_reason = runner.invoke(cli, ["awards", "revoke", award_id])
    assert no_reason.exit_code != 0
    with srt.reading() as session:
        row = session.get(Award, award_id)
        assert row is not None
        assert row.status == "revoked"
        assert row.status_reason == "cli test"
