"""Credential builders (pure): exact shapes, identity hash, JSON-LD safe mode, 1EdTech schemas."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from contexts import jsonld
from contexts.loader import CLR_V2P0, OB_V3P0, VC_V2
from issuer.credentials.builders import LearnerIdentity, build_coa, build_coc, build_mms
from issuer.credentials.identity import identity_hash
from issuer.domain.awards import Result
from issuer.domain.catalogue import (
    AssessmentSpec,
    IssuerProfile,
    MaterialSpec,
    MicroCredentialSpec,
    ProgrammeSpec,
)
from keys.dataintegrity import add_proof
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from verifier.errors import SchemaValidationError
from verifier.schema import check_schema

BASE = "https://issuer.test.example"
AT = datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=UTC)
KEY = KeyPair.generate("Ed25519")
ISSUER = IssuerProfile(did_key_for(KEY), "Universiti Contoh", "https://u.example.my", "r@u.my")
LEARNER = LearnerIdentity("Kavitha.S@Example.MY ", "Kavitha a/p Subramaniam கவிதா", "c0ffee")


def _mc(code: str, credits: int) -> MicroCredentialSpec:
    return MicroCredentialSpec(
        code=code,
        title=f"Kursus {code}: 数据分析",
        description="Analisis data",
        credits=credits,
        slt_hours=credits * 40,
        mqf_level=6,
        delivery_mode="online",
        category="programme-based",
        learning_outcomes=("Clean data",),
        materials=(MaterialSpec("M1", "Week 1"),),
        assessments=(AssessmentSpec("QZ", "Quiz", Decimal("50")),),
    )


MC1, MC2 = _mc("DAF101", 3), _mc("DVZ102", 2)
PROG = ProgrammeSpec(
    "PCDA", "Data Analytics", "Stack", 6, ("DAF101", "DVZ102"), "https://u.example.my/bcs"
)


def _coa(mc: MicroCredentialSpec, n: int) -> dict[str, Any]:
    return build_coa(
        mc,
        LEARNER,
        {"QZ": Result(Decimal("78.50"), "A-")},
        issuer=ISSUER,
        base_url=BASE,
        credential_id=f"{BASE}/credentials/{n}",
        issued_at=AT,
        programmes=[PROG],
    )


def test_identity_hash_is_sha256_of_lowercased_email_plus_salt() -> None:
    expected = hashlib.sha256(b"kavitha.s@example.my" + b"c0ffee").hexdigest()
    assert identity_hash("Kavitha.S@Example.MY ", "c0ffee") == "sha256$" + expected


def test_coc_shape() -> None:
    coc = build_coc(
        MC1, LEARNER, issuer=ISSUER, base_url=BASE, credential_id=f"{BASE}/c/1", issued_at=AT
    )
    assert coc["@context"] == [VC_V2, OB_V3P0]
    assert coc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert "awardType" not in coc
    award_type = coc["credentialSubject"]["achievement"]["alignment"][0]
    assert award_type == {
        "type": ["Alignment"],
        "targetType": "ext:MQAAwardType",
        "targetFramework": "MQA Micro-credential Award Types",
        "targetCode": "COC",
        "targetName": "Certificate of Completion",
        "targetUrl": f"{BASE}/vocab/award-types#COC",
    }
    assert coc["validFrom"] == "2026-11-29T08:30:15Z"
    achievement = coc["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert achievement["id"] == f"{BASE}/achievements/DAF101/coc"
    assert "creditsEarned" not in coc["credentialSubject"]
    assert "result" not in coc["credentialSubject"]
    jsonld.check_safe(coc)
    assert check_schema(coc).state == "passed"


def test_coa_shape_and_results() -> None:
    coa = _coa(MC1, 1)
    subject = coa["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "MicroCredential"
    assert subject["creditsEarned"] == 3
    assert subject["result"] == [
        {
            "type": ["Result"],
            "resultDescription": f"{BASE}/achievements/DAF101/results/QZ",
            "value": "78.5",
            "status": "Completed",
        }
    ]
    assert [i["identityType"] for i in subject["identifier"]] == ["emailAddress", "name"]
    codes = {a["targetType"]: a.get("targetCode") for a in subject["achievement"]["alignment"]}
    assert codes == {
        "ext:MQAAwardType": "COA",
        "ext:MQFLevel": "6",
        "ext:StudentLearningTime": "120",
        "ext:DeliveryMode": "online",
        "ext:MicroCredentialCategory": "programme-based",
        "ext:LearningOutcome": "DAF101-LO1",
        "ext:Programme": "PCDA",
    }
    assert "sltHours" not in subject["achievement"]
    assert "MQF Level 6" in subject["achievement"]["tag"]
    jsonld.check_safe(coa)
    assert check_schema(coa).state == "passed"


def test_learner_did_becomes_subject_id() -> None:
    learner = LearnerIdentity("a@b.my", "A", "s", did="did:example:learner")
    coc = build_coc(MC1, learner, issuer=ISSUER, base_url=BASE, credential_id="urn:x", issued_at=AT)
    assert coc["credentialSubject"]["id"] == "did:example:learner"


def test_mms_embeds_coas_verbatim_and_sums_credits() -> None:
    coas = [add_proof(_coa(MC1, 1), KEY), add_proof(_coa(MC2, 2), KEY)]
    mms = build_mms(
        PROG, LEARNER, coas, issuer=ISSUER, base_url=BASE, credential_id="urn:m", issued_at=AT
    )
    assert mms["@context"] == [VC_V2, CLR_V2P0, OB_V3P0]
    assert mms["type"] == ["VerifiableCredential", "ClrCredential"]
    subject = mms["credentialSubject"]
    assert subject["verifiableCredential"] == coas
    programme = subject["achievement"][0]
    assert programme["achievementType"] == "LearningProgram"
    assert programme["creditsAvailable"] == 5
    children = [a for a in subject["association"] if a["associationType"] == "isChildOf"]
    assert {a["sourceId"] for a in children} == {
        f"{BASE}/achievements/DAF101/coa",
        f"{BASE}/achievements/DVZ102/coa",
    }
    assert all(a["targetId"] == programme["id"] for a in children)
    part_of = [a for a in subject["association"] if a["associationType"] == "isPartOf"]
    assert part_of[0]["targetId"] == "https://u.example.my/bcs"
    jsonld.check_safe(mms)
    assert check_schema(add_proof(mms, KEY)).state == "passed"


def test_schema_rejects_broken_coa() -> None:
    coa = _coa(MC1, 1)
    del coa["credentialSubject"]["achievement"]["criteria"]
    with pytest.raises(SchemaValidationError):
        check_schema(coa)


def test_mms_restates_an_old_format_coa_achievement_in_published_terms() -> None:
    coa = _coa(MC1, 1)
    achievement = coa["credentialSubject"]["achievement"]
    for alignment in list(achievement["alignment"]):
        if alignment["targetType"] != "ext:LearningOutcome":
            achievement["alignment"].remove(alignment)
    del achievement["tag"]
    achievement.update(
        {"sltHours": 120, "mqfLevel": 6, "deliveryMode": "online"}
        | {"microCredentialCategory": "programme-based"}
    )
    mms = build_mms(
        PROG, LEARNER, [coa], issuer=ISSUER, base_url=BASE, credential_id="urn:m", issued_at=AT
    )
    unit = mms["credentialSubject"]["achievement"][1]
    assert not {"sltHours", "mqfLevel", "deliveryMode", "microCredentialCategory"} & set(unit)
    codes = {a["targetType"]: a.get("targetCode") for a in unit["alignment"]}
    assert codes["ext:MQAAwardType"] == "COA"
    assert codes["ext:StudentLearningTime"] == "120"
    assert codes["ext:MQFLevel"] == "6"
    assert mms["credentialSubject"]["verifiableCredential"] == [coa]  # the COA itself: verbatim
    del mms["credentialSubject"]["verifiableCredential"]  # (its old terms are its own context's)
    jsonld.check_safe(mms)
