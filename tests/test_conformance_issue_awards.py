"""Issued awards (COC, COA, MMS) conform: official 1EdTech schemas unmodified, published
contexts only, exactly one ``credentialStatus``, every MQA fact kept as OB 3.0 alignments, and
no ``validFrom`` later than the signing moment, even after a status change under a clock ahead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conformance_issue_support import (
    PUBLISHED_CONTEXTS,
    Issuer,
    contexts_named,
    issuer_app,
    schema_errors,
    verify,
)

from contexts.loader import OB_V3P0, SIJIL_CONTEXT_URL, VC_V2
from issuer.credentials.builders import iso_datetime
from issuer.db.models import StatusList
from issuer.domain.catalogue import LearnerSpec
from issuer.domain.progress import ProgressEvent
from issuer.services.awards import AwardView, list_awards
from issuer.services.catalogue import upsert_learner
from issuer.services.demo import seed_demo
from issuer.services.errors import SelfVerificationError
from issuer.services.issuance import secure_credential
from issuer.services.issuers import IssuerSpec, create_issuer, get_issuer
from issuer.services.progress import record_progress
from issuer.services.status import (
    change_status,
    is_signed_in_future,
    published_list,
    set_suspension_enabled,
    suspension_switches,
)
from keys.dataintegrity import add_proof
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from verifier.models import parse_credential
from verifier.report import verify_credential
from verifier.trust import TrustedIssuer, TrustList


@pytest.fixture
def issuer(instance: Path) -> Iterator[Issuer]:
    with issuer_app(instance) as app:
        yield app


@pytest.fixture
def awards(issuer: Issuer) -> list[AwardView]:
    seed_demo(issuer.rt)
    found = list_awards(issuer.rt, limit=None)
    assert {a.award_type for a in found} == {"COC", "COA", "MMS"}
    return found


def _signed(award: AwardView) -> dict[str, Any]:
    credential: dict[str, Any] = json.loads(award.credential_json)
    return credential


def test_every_award_type_validates_against_the_official_schemas(
    awards: list[AwardView],
) -> None:
    for award in awards:
        credential = _signed(award)
        assert schema_errors(credential) == [], (award.award_type, award.id)
        for embedded in credential["credentialSubject"].get("verifiableCredential", []):
            assert schema_errors(embedded) == []


def test_awards_name_only_published_contexts(awards: list[AwardView]) -> None:
    for award in awards:
        named = contexts_named(_signed(award))
        assert named <= PUBLISHED_CONTEXTS, named - PUBLISHED_CONTEXTS
        assert SIJIL_CONTEXT_URL not in named
        assert "awardType" not in award.credential_json


def test_awards_carry_exactly_one_revocation_status_object(awards: list[AwardView]) -> None:
    for award in awards:
        status = _signed(award)["credentialStatus"]
        assert isinstance(status, dict)
        assert status["type"] == "BitstringStatusListEntry"
        assert status["statusPurpose"] == "revocation"


def test_mqa_facts_survive_as_alignments_for_both_readers(awards: list[AwardView]) -> None:
    for award in awards:
        model = parse_credential(_signed(award))
        assert model.award_type == award.award_type
        assert model.kind == award.award_type
        achievement = model.achievement
        assert achievement is not None
        assert achievement.award_type == award.award_type
        assert achievement.mqf_level == 6
        assert achievement.category == "programme-based" or award.award_type != "MMS"
        if award.award_type == "MMS":
            assert achievement.programme_code == award.achievement_code
        else:
            assert achievement.slt_hours is not None
            assert achievement.slt_hours % 40 == 0
            assert achievement.delivery_mode in {"online", "face-to-face", "blended"}
            assert achievement.category in {"programme-based", "stand-alone"}
        tags = achievement.raw["tag"]
        assert "MQF Level 6" in tags
        for alignment in achievement.raw["alignment"]:
            assert alignment["targetUrl"].startswith("https://")


def test_award_type_alignment_points_at_a_page_the_issuer_serves(
    issuer: Issuer, awards: list[AwardView]
) -> None:
    client = issuer.client()
    for award in awards:
        model = parse_credential(_signed(award))
        assert model.achievement is not None
        (alignment,) = [
            a for a in model.achievement.raw["alignment"] if a["targetType"] == "ext:MQAAwardType"
        ]
        assert alignment["targetCode"] == award.award_type
        path, _, anchor = (
            alignment["targetUrl"].removeprefix(issuer.rt.settings.base_url).partition("#")
        )
        page = client.get(path)
        assert page.status_code == 200
        assert f'id="{anchor}"' in page.get_data(as_text=True)
    assert client.get("/vocab/no-such-vocabulary").status_code == 404


def test_awards_verify_as_a_relying_party_would(issuer: Issuer, awards: list[AwardView]) -> None:
    for award in awards:
        report = verify(issuer, _signed(award))
        assert report.verified, report.error_codes
        assert report.checks["schema"].status == "passed"


def test_valid_from_is_never_after_the_signing_moment(awards: list[AwardView]) -> None:
    for award in awards:
        credential = _signed(award)
        assert credential["validFrom"] <= credential["proof"]["created"]


def test_old_sijil_context_credential_still_reads_and_verifies() -> None:
    key = KeyPair.generate("Ed25519")
    did = did_key_for(key)
    old = {
        "@context": [VC_V2, OB_V3P0, SIJIL_CONTEXT_URL],
        "id": "https://issuer.test.example/credentials/old-1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certificate of Achievement: Data Analytics Fundamentals",
        "awardType": "COA",
        "issuer": {"id": did, "type": ["Profile"], "name": "Universiti Contoh"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.test.example/achievements/DAF101/coa",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Data Analytics Fundamentals",
                "description": "Data",
                "criteria": {"narrative": "Passed"},
                "humanCode": "DAF101",
                "creditsAvailable": 3,
                "sltHours": 120,
                "mqfLevel": 6,
                "deliveryMode": "online",
                "microCredentialCategory": "programme-based",
            },
            "creditsEarned": 3,
        },
    }
    signed = add_proof(old, key)
    model = parse_credential(signed)
    assert (model.award_type, model.kind) == ("COA", "COA")
    achievement = model.achievement
    assert achievement is not None
    assert (achievement.mqf_level, achievement.slt_hours) == (6, 120)
    assert (achievement.delivery_mode, achievement.category) == ("online", "programme-based")
    report = verify_credential(
        signed,
        at=datetime(2026, 6, 1, tzinfo=UTC),
        trust=TrustList.from_issuers([TrustedIssuer(did, "Universiti Contoh")]),
    )
    assert report.verified, report.error_codes


def test_new_issuers_have_suspension_off(issuer: Issuer) -> None:
    view = create_issuer(
        issuer.rt,
        IssuerSpec("faculty", "Faculty", "https://f.example", "f@f.example", did_method="key"),
        actor="test",
    )
    assert suspension_switches(issuer.rt)[view.slug] is False


def test_suspension_on_gives_two_entries_and_breaks_the_ob_schema(issuer: Issuer) -> None:
    set_suspension_enabled(issuer.rt, None, True, actor="test")
    seed_demo(issuer.rt)
    award = list_awards(issuer.rt, award_type="COA", limit=1)[0]
    credential = _signed(award)
    status = credential["credentialStatus"]
    assert [s["statusPurpose"] for s in status] == ["revocation", "suspension"]
    assert schema_errors(credential)  # documented: OB 3.0 allows one entry
    assert verify(issuer, credential).checks["status"].status == "passed"


def _finish(learner: str, mc: str) -> list[ProgressEvent]:
    return [
        ProgressEvent(learner, mc, "material_completed", f"{mc}-M1"),
        ProgressEvent(learner, mc, "material_completed", f"{mc}-M2"),
        ProgressEvent(learner, mc, "assessment_result", f"{mc}-QZ", Decimal(80)),
        ProgressEvent(learner, mc, "assessment_result", f"{mc}-PJ", Decimal(80)),
    ]


def test_revoke_under_a_clock_ahead_then_import_at_real_time(issuer: Issuer) -> None:
    seed_demo(issuer.rt)
    victim = list_awards(issuer.rt, award_type="COA", limit=1)[0]
    issuer.clock.offset = timedelta(days=1)
    change_status(issuer.rt, [victim.id], "revoke", reason="clock test", actor="test")
    issuer.clock.offset = timedelta()

    upsert_learner(issuer.rt, LearnerSpec("S9001", "late@x.my", "Late Learner"), actor="test")
    outcome = record_progress(issuer.rt, _finish("S9001", "DAF101"), actor="test")
    assert {a.award_type for a in outcome.issued} == {"COC", "COA"}

    now = datetime.now(UTC)
    list_id = int(_signed(victim)["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1])
    with issuer.rt.reading() as session:  # the import's allocation re-signed it already
        row = session.get(StatusList, list_id)
        assert row is not None
        assert not is_signed_in_future(row, now)
    served = json.loads(published_list(issuer.rt, list_id).body)
    assert datetime.fromisoformat(served["validFrom"]) <= now
    assert verify(issuer, _signed(victim)).error_codes == ("CREDENTIAL_REVOKED",)
    for award in list_awards(issuer.rt, status="active", limit=None):
        if award.award_type == "MMS":
            continue  # it stacks the revoked COA: STACKING_INNER_REVOKED, as it should
        report = verify(issuer, _signed(award))
        assert report.verified, (award.id, report.error_codes)


def test_signing_refuses_a_valid_from_later_than_the_signing_moment(issuer: Issuer) -> None:
    view = get_issuer(issuer.rt)
    at = datetime.now(UTC)
    unsigned = {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": view.did,
        "validFrom": iso_datetime(at + timedelta(seconds=2)),
        "credentialSubject": {"id": "did:example:learner"},
    }
    with pytest.raises(SelfVerificationError) as caught:
        secure_credential(issuer.rt, view, unsigned, at=at)
    assert caught.value.code == "SELF_VERIFICATION_FAILED"
    unsigned["validFrom"] = iso_datetime(at)
    assert secure_credential(issuer.rt, view, unsigned, at=at)["proof"]
