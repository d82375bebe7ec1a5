"""Credit transfer: a policy capping at 30 % of 120 credits, with a minimum grade; only
recognised issuers count and every credential must be about one learner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from verifier_fixtures import (
    Learner,
    build_mms,
    coa_for,
    key_from_seed,
    sign,
)
from verifier_trust import trust_file, trust_for

from contexts.errors import MalformedValueError
from keys.didkey import did_key_for
from keys.resolve import Resolver
from verifier.cli import cli
from verifier.report import VerificationReport, verify_credential
from verifier.transfer import TransferPolicy, evaluate_transfer

AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(71)
OTHER_UNI = key_from_seed(72)
HOLDER = key_from_seed(73)
LEARNER = Learner("Lim Jia Hui", "jiahui@example.com", "salt-jiahui", did=did_key_for(HOLDER))
CODES = [f"DT{100 + i}" for i in range(14)]


def _policy(**overrides: Any) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "programme": {"id": "https://uni-b.example.my/programmes/BSCDS", "name": "BSc Data Sc"},
        "totalCredits": 120,
        "maxTransferShare": 0.30,
        "minMqfLevel": 6,
        "minGrade": "B",
        "maxAgeYears": 5,
        "acceptedIssuers": [did_key_for(ISSUER)],
        "courseMapping": [
            {"achievement": code, "course": f"XYZ{1000 + i}", "credits": 3}
            for i, code in enumerate(CODES)
        ],
    }
    policy.update(overrides)
    return policy


def _verify(doc: Any, **kw: Any) -> VerificationReport:
    kw.setdefault("trust", trust_for(ISSUER, OTHER_UNI))
    return verify_credential(doc, at=AT, resolver=Resolver(), **kw)


def _good(i: int, score: str = "78") -> dict[str, Any]:
    return coa_for(ISSUER, LEARNER, CODES[i], f"Unit {CODES[i]}", serial=i + 1, score=score)


def test_cap_at_30_percent_with_minimum_grade() -> None:
    credentials = [_good(i) for i in range(13)]  # 13 x 3 = 39 credits of good COAs
    credentials.append(_good(13, score="58"))  # grade B-: below B
    coc = coa_for(ISSUER, LEARNER, "DT900", "Orientation", serial=90, award="COC")
    low_level = coa_for(ISSUER, LEARNER, "DT901", "Basics", serial=91, mqf_level=4)
    unmapped = coa_for(ISSUER, LEARNER, "DT902", "Unmapped Unit", serial=92)
    old = coa_for(
        ISSUER, LEARNER, "DT903", "Old Unit", serial=93, valid_from="2019-01-01T00:00:00Z"
    )
    foreign = coa_for(OTHER_UNI, LEARNER, "DT904", "Elsewhere", serial=94)
    forged = _good(0)
    forged["credentialSubject"]["creditsEarned"] = 30
    everything = [
        *credentials[:6],
        coc,
        low_level,
        unmapped,
        old,
        foreign,
        forged,
        *credentials[6:],
    ]
    reports = [_verify(doc) for doc in everything]
    result = evaluate_transfer(reports, TransferPolicy.from_dict(_policy()), at=AT)

    assert result.cap == Decimal("36.0")
    assert result.transferred == 36
    assert sum(c.credits for c in result.courses) == 36
    assert len(result.accepted) == 12
    codes = {d.credential_id: d.code for d in result.rejected}
    assert codes[coc["id"]] == "COC_NO_CREDIT"
    assert codes[low_level["id"]] == "MQF_LEVEL_TOO_LOW"
    assert codes[unmapped["id"]] == "NO_COURSE_MAPPING"
    assert codes[old["id"]] == "TOO_OLD"
    assert codes[foreign["id"]] == "ISSUER_NOT_ACCEPTED"
    assert codes[credentials[12]["id"]] == "CAP_REACHED"
    assert codes[credentials[13]["id"]] == "GRADE_TOO_LOW"
    assert [d.code for d in result.rejected].count("NOT_VERIFIED") == 1
    for decision in result.decisions:
        assert decision.reason.endswith(".") or decision.reason.endswith(")")
        assert decision.reason
    out = result.to_dict()
    assert out["transferred"] == 36
    assert len(out["decisions"]) == len(everything)
    json.dumps(out)


def test_min_score_policy() -> None:
    reports = [_verify(_good(0, score="64")), _verify(_good(1, score="65"))]
    result = evaluate_transfer(
        reports, TransferPolicy.from_dict(_policy(minGrade=None, minScore=65)), at=AT
    )
    assert [d.code for d in result.decisions] == ["GRADE_TOO_LOW", "ACCEPTED"]


def test_partial_credit_when_allowed() -> None:
    policy = _policy(maxTransferShare=0.05, allowPartialCredit=True)  # cap 6
    reports = [_verify(_good(i)) for i in range(3)]
    result = evaluate_transfer(reports, TransferPolicy.from_dict(policy), at=AT)
    assert result.transferred == 6
    whole = evaluate_transfer(
        reports, TransferPolicy.from_dict(_policy(maxTransferShare=0.06)), at=AT
    )  # cap 7.2: whole courses only
    assert whole.transferred == 6
    assert whole.decisions[-1].code == "CAP_REACHED"


def test_mms_is_expanded_into_its_coas() -> None:
    coas = [_good(i) for i in range(3)]
    mms = sign(build_mms(ISSUER, LEARNER, coas), ISSUER)
    result = evaluate_transfer([_verify(mms)], TransferPolicy.from_dict(_policy()), at=AT)
    assert [d.code for d in result.decisions] == ["EVALUATED_BY_COMPONENT"] + ["ACCEPTED"] * 3
    assert result.transferred == 9


def test_same_coa_twice_is_counted_once() -> None:
    doc = _good(0)
    result = evaluate_transfer(
        [_verify(doc), _verify(doc)], TransferPolicy.from_dict(_policy()), at=AT
    )
    assert [d.code for d in result.decisions] == ["ACCEPTED", "DUPLICATE"]
    assert result.transferred == 3


def _vp(credentials: list[Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_key_for(HOLDER),
        "verifiableCredential": credentials,
    }


def test_unsigned_presentation_only_where_policy_allows() -> None:
    vp = _vp([_good(0)])
    strict = TransferPolicy.from_dict(_policy())
    refused = evaluate_transfer([_verify(vp)], strict, at=AT)
    assert [d.code for d in refused.decisions] == ["PRESENTATION_NOT_VERIFIED"]
    lenient = TransferPolicy.from_dict(_policy(allowUnsignedPresentations=True))
    report = _verify(vp, allow_unsigned_presentation=lenient.allow_unsigned_presentations)
    accepted = evaluate_transfer([report], lenient, at=AT)
    assert [d.code for d in accepted.decisions] == ["ACCEPTED"]


def test_signed_presentation_replayed_is_refused() -> None:
    vp = sign(
        _vp([_good(0)]),
        HOLDER,
        proof_purpose="authentication",
        challenge="request-1",
        domain="https://uni-b.example.my",
    )
    policy = TransferPolicy.from_dict(_policy())
    fresh = _verify(vp, challenge="request-1", domain="https://uni-b.example.my")
    replay = _verify(vp, challenge="request-2", domain="https://uni-b.example.my")
    assert [d.code for d in evaluate_transfer([fresh], policy, at=AT).decisions] == ["ACCEPTED"]
    replayed = evaluate_transfer([replay], policy, at=AT)
    assert [d.code for d in replayed.decisions] == ["PRESENTATION_NOT_VERIFIED"]
    assert replayed.transferred == 0


@pytest.mark.parametrize(
    ("bad", "pointer"),
    [
        ({"maxTransferShare": 1.5}, "/maxTransferShare"),
        ({"totalCredits": "many"}, "/totalCredits"),
        ({"minGrade": "Z"}, "/minGrade"),
        ({"courseMapping": [{"achievement": "X"}]}, "/courseMapping/0"),
        ({"acceptedIssuers": "did:web:x"}, "/acceptedIssuers"),
    ],
)
def test_malformed_policy(bad: dict[str, Any], pointer: str) -> None:
    with pytest.raises(MalformedValueError) as caught:
        TransferPolicy.from_dict(_policy(**bad))
    assert caught.value.pointer == pointer


def test_policy_defaults() -> None:
    policy = TransferPolicy.from_dict({})
    assert policy.total_credits == 120
    assert policy.cap == Decimal("36.00")
    assert policy.max_age_years == 5
    assert not policy.allow_unsigned_presentations


def test_cli_credit_transfer(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        path = tmp_path / f"coa{i}.json"
        path.write_text(json.dumps(_good(i, score="90" if i else "40")))
        paths.append(str(path))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(_policy()))
    trust = str(trust_file(tmp_path, ISSUER))
    now = ["--now", "2026-07-01T00:00:00Z", "--trust", trust]
    result = CliRunner().invoke(cli, ["credit-transfer", "--policy", str(policy), *now, *paths])
    assert result.exit_code == 0, result.output
    assert "GRADE_TOO_LOW: " in result.output
    assert "TOTAL: 6 of at most 36" in result.output
    assert LEARNER.name in result.output
    as_json = CliRunner().invoke(
        cli, ["credit-transfer", "--json", "--policy", str(policy), *now, *paths]
    )
    out = json.loads(as_json.output)
    assert out["transferred"] == 6
    assert out["learner"]["name"] == LEARNER.name
    assert out["learner"]["id"] == LEARNER.did


def test_cli_credit_transfer_without_trust_list_credits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "coa.json"
    path.write_text(json.dumps(_good(0)))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(_policy(acceptedIssuers=[])))
    result = CliRunner().invoke(
        cli,
        [
            "credit-transfer",
            "--json",
            "--policy",
            str(policy),
            "--now",
            "2026-07-01T00:00:00Z",
            str(path),
        ],
        env={"SIJIL_TRUST_FILE": ""},
    )
    out = json.loads(result.output)
    assert out["transferred"] == 0
    assert [d["code"] for d in out["decisions"]] == ["ISSUER_NOT_TRUSTED"]


def test_empty_accepted_issuers_means_recognised_issuers_not_anyone() -> None:
    attacker = key_from_seed(74)
    forged = coa_for(attacker, LEARNER, CODES[1], f"Unit {CODES[1]}", serial=2)
    policy = TransferPolicy.from_dict(_policy(acceptedIssuers=[]))
    reports = [_verify(_good(0)), _verify(forged)]
    result = evaluate_transfer(reports, policy, at=AT)
    assert [d.code for d in result.decisions] == ["ACCEPTED", "ISSUER_NOT_TRUSTED"]
    assert result.transferred == 3


def test_two_learners_are_refused_and_the_learner_is_shown() -> None:
    other = Learner("Tan Wei Ming", "weiming@example.com", "salt-weiming")
    mine = [_good(0), _good(1)]
    theirs = coa_for(ISSUER, other, CODES[2], f"Unit {CODES[2]}", serial=3)
    policy = TransferPolicy.from_dict(_policy())
    alone = evaluate_transfer([_verify(doc) for doc in mine], policy, at=AT)
    assert alone.learner is not None
    assert alone.learner.name == LEARNER.name
    assert alone.to_dict()["learner"]["name"] == LEARNER.name
    assert all(d.learner_name == LEARNER.name for d in alone.decisions)
    mixed = evaluate_transfer([_verify(doc) for doc in [*mine, theirs]], policy, at=AT)
    assert mixed.refused == "LEARNER_MISMATCH"
    assert mixed.learner is None
    assert {learner.name for learner in mixed.learners} == {LEARNER.name, other.name}
    assert {d.code for d in mixed.decisions} == {"LEARNER_MISMATCH"}
    assert mixed.transferred == 0


def test_same_learner_by_identity_hash_without_subject_ids() -> None:
    plain = Learner(LEARNER.name, "jiahui@example.com", "salt-jiahui")
    docs = [coa_for(ISSUER, plain, CODES[i], f"Unit {CODES[i]}", serial=i + 1) for i in (0, 1)]
    result = evaluate_transfer(
        [_verify(doc) for doc in docs], TransferPolicy.from_dict(_policy()), at=AT
    )
    assert [d.code for d in result.decisions] == ["ACCEPTED", "ACCEPTED"]
    assert result.learner is not None
    assert result.learner.identity is not None


def test_mms_of_two_learners_credits_nothing() -> None:
    other = Learner("Tan Wei Ming", "weiming@example.com", "salt-weiming")
    coas = [_good(0), coa_for(ISSUER, other, CODES[1], f"Unit {CODES[1]}", serial=2)]
    mms = sign(build_mms(ISSUER, LEARNER, coas), ISSUER)
    result = evaluate_transfer([_verify(mms)], TransferPolicy.from_dict(_policy()), at=AT)
    assert result.transferred == 0
    assert result.decisions[0].code == "NOT_VERIFIED"
    assert {d.code for d in result.decisions[1:]} == {"CONTAINER_NOT_VERIFIED"}
