"""Programme stacking (MMS): the acceptance cases, each with its own code.

Every MMS here is built per ARCHITECTURE.md "Credential formats" by tests/verifier_fixtures.py
(no :mod:`issuer` import) and re-signed by the issuer after any change to an embedded COA, so
the statement's own proof holds and only the stacking rules can catch the problem.
"""

from __future__ import annotations

import copy
import html
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from shared_dir import VECTORS
from verifier_fixtures import (
    Learner,
    build_coa,
    build_mms,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
)
from verifier_trust import trust_for

from keys.didkey import did_key_for
from keys.resolve import Resolver
from verifier.fetchers import MappingFetcher
from verifier.report import VerificationReport, verify_credential
from verifier.trust import TrustedIssuer, TrustList

AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(11)
LEARNER = Learner("Nur Aisyah binti Ahmad", "Aisyah@Example.com", "salt-aisyah")
OTHER = Learner("Tan Wei Ming", "weiming@example.com", "salt-weiming")
UNITS = [
    ("DS101", "Data Analytics Fundamentals"),
    ("DS102", "Machine Learning Basics"),
    ("DS103", "Data Visualisation"),
]


def _coas(learner: Learner = LEARNER, key: Any = ISSUER) -> list[dict[str, Any]]:
    return [
        coa_for(key, learner, code, name, serial=index + 1)
        for index, (code, name) in enumerate(UNITS)
    ]


def _mms(coas: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return sign(build_mms(ISSUER, LEARNER, coas, **kw), ISSUER)


def _verify(doc: dict[str, Any], **kw: Any) -> VerificationReport:
    kw.setdefault("trust", trust_for(ISSUER))
    return verify_credential(doc, at=AT, resolver=Resolver(), **kw)


def _stacking_codes(report: VerificationReport) -> list[str]:
    return [str(e["code"]) for e in report.errors if e["check"] == "stacking"]


def _stacking_errors(report: VerificationReport) -> list[dict[str, Any]]:
    return [dict(e) for e in report.errors if e["check"] == "stacking"]


def test_valid_mms_passes_every_stacking_check() -> None:
    report = _verify(_mms(_coas()))
    assert report.verified, report.to_dict()
    assert report.verdict == "valid"
    assert report.checks["stacking"].status == "passed"
    assert "3 COAs" in report.checks["stacking"].message
    assert len(report.parts) == 3
    assert all(part.verified for part in report.parts)
    assert report.credential is not None
    assert report.credential.award_type == "MMS"
    assert report.credential.credits == 9
    assert [c.achievement_name for c in report.credential.components] == [n for _, n in UNITS]


def test_tampered_embedded_coa_is_named() -> None:
    coas = _coas()
    coas[1]["credentialSubject"]["result"][0]["value"] = "99"  # after signing
    report = _verify(_mms(coas))
    assert not report.verified
    assert report.verdict == "invalid"
    assert report.checks["proof"].status == "passed"  # the statement itself is intact
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_INNER_INVALID"]
    assert errors[0]["credential"] == coas[1]["id"]
    assert coas[1]["id"] in errors[0]["detail"]
    assert "Machine Learning Basics" in errors[0]["detail"]
    assert "PROOF_VERIFICATION_ERROR" in errors[0]["codes"]


def test_tampered_coa_without_resigning_breaks_the_statement_too() -> None:
    mms = _mms(_coas())
    mms["credentialSubject"]["verifiableCredential"][0]["credentialSubject"]["creditsEarned"] = 30
    report = _verify(mms)
    assert report.checks["proof"].codes == ("PROOF_VERIFICATION_ERROR",)
    assert "STACKING_INNER_INVALID" in _stacking_codes(report)


def test_coa_for_another_learner_swapped_in() -> None:
    coas = _coas()
    coas[2] = coa_for(ISSUER, OTHER, *UNITS[2], serial=3)
    report = _verify(_mms(coas))
    assert not report.verified
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_LEARNER_MISMATCH"]
    assert errors[0]["credential"] == coas[2]["id"]
    assert "Data Visualisation" in errors[0]["detail"]
    assert "another learner" in errors[0]["detail"]


def test_learner_matched_by_subject_id_when_both_have_one() -> None:
    with_did = Learner(LEARNER.name, LEARNER.email, LEARNER.salt, did="did:example:aisyah")
    other_did = Learner(LEARNER.name, LEARNER.email, LEARNER.salt, did="did:example:someone")
    coas = _coas(with_did)
    coas[0] = coa_for(ISSUER, other_did, *UNITS[0], serial=1)
    mms = sign(build_mms(ISSUER, with_did, coas), ISSUER)
    report = _verify(mms)
    assert _stacking_codes(report) == ["STACKING_LEARNER_MISMATCH"]


def test_component_missing() -> None:
    coas = _coas()
    components = [c for c in coas]  # the programme declares all three ...
    report = _verify(_mms(coas[:2], components=components, credits_available=6))
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_COMPONENT_MISSING"]
    assert "Data Visualisation" in errors[0]["detail"]
    assert report.verdict == "invalid"


def test_coa_resigned_by_unrecognised_key() -> None:
    coas = _coas()
    stranger = key_from_seed(99)
    unsigned = {k: v for k, v in coas[0].items() if k != "proof"}
    coas[0] = sign(unsigned, stranger)  # issuer still says the university
    report = _verify(_mms(coas))
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_SIGNER_MISMATCH"]
    assert errors[0]["credential"] == coas[0]["id"]
    assert "Data Analytics Fundamentals" in errors[0]["detail"]
    assert "ISSUER_BINDING_ERROR" in errors[0]["codes"]


def test_coa_from_another_issuer_fails_unless_both_trusted() -> None:
    other = key_from_seed(12)
    coas = _coas()
    coas[1] = coa_for(other, LEARNER, *UNITS[1], serial=2)
    report = _verify(_mms(coas))
    assert _stacking_codes(report) == ["STACKING_ISSUER_MISMATCH"]
    assert did_key_for(other) in _stacking_errors(report)[0]["detail"]

    both = TrustList.from_issuers(
        [TrustedIssuer(did_key_for(ISSUER), "UCM"), TrustedIssuer(did_key_for(other), "UKM")]
    )
    trusted = _verify(_mms(coas), trust=both)
    assert trusted.checks["stacking"].status == "passed"
    assert trusted.verified


def test_programme_credits_inflated() -> None:
    report = _verify(_mms(_coas(), credits_available=12))
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_CREDITS_MISMATCH"]
    assert "states 12 credits" in errors[0]["detail"]
    assert "9 in total" in errors[0]["detail"]


def test_coa_credits_earned_inflated_is_named() -> None:
    coas = _coas()
    coas[0] = sign(build_coa(ISSUER, LEARNER, *UNITS[0], serial=1, credits_earned=6), ISSUER)
    report = _verify(_mms(coas, credits_available=12))
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_CREDITS_MISMATCH"]
    assert errors[0]["credential"] == coas[0]["id"]
    assert "claims 6 credits" in errors[0]["detail"]


def test_same_coa_embedded_twice() -> None:
    coas = _coas()
    report = _verify(_mms([*coas, copy.deepcopy(coas[0])], components=coas))
    assert "STACKING_DUPLICATE" in _stacking_codes(report)


def test_two_coas_for_one_component() -> None:
    coas = _coas()
    again = coa_for(ISSUER, LEARNER, *UNITS[0], serial=7)
    report = _verify(_mms([*coas, again], components=coas))
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_DUPLICATE"]
    assert errors[0]["credential"] == again["id"]


def test_coa_not_a_declared_component() -> None:
    coas = _coas()
    extra = coa_for(ISSUER, LEARNER, "ZZ900", "Underwater Basket Weaving", serial=8)
    report = _verify(_mms([*coas, extra], components=coas))
    errors = _stacking_errors(report)
    assert "STACKING_NOT_A_COMPONENT" in [e["code"] for e in errors]
    assert any("Underwater Basket Weaving" in e["detail"] for e in errors)


def _with_status(code: str, name: str, serial: int, entry: dict[str, Any]) -> dict[str, Any]:
    """A signed COA with one status entry (an object: the OB 3.0 schema allows one)."""
    doc = build_coa(ISSUER, LEARNER, code, name, serial=serial)
    doc["credentialStatus"] = entry
    return sign(doc, ISSUER)


def test_revoked_inner_coa_fails_stacking() -> None:
    url = "https://registry.example.edu.my/status/1"
    coas = [
        _with_status(code, name, i + 1, status_entry(url, 100 + i))
        for i, (code, name) in enumerate(UNITS)
    ]
    fetcher = MappingFetcher({url: status_list(ISSUER, url, set_bits=[101])})
    report = verify_credential(
        _mms(coas), at=AT, resolver=Resolver(fetcher), fetcher=fetcher, trust=trust_for(ISSUER)
    )
    errors = _stacking_errors(report)
    assert [e["code"] for e in errors] == ["STACKING_INNER_REVOKED"]
    assert errors[0]["credential"] == coas[1]["id"]
    assert report.parts[1].verdict == "revoked"
    # The statement reads revoked (not "altered"), because of the COA it stacks.
    assert report.verdict == "revoked"
    assert report.verdict_reason == "component"
    assert "stacks" in report.headline
    assert not report.verified
    assert report.credential is not None
    assert [c.verdict for c in report.credential.components] == ["valid", "revoked", "valid"]
    assert [c.verified for c in report.credential.components] == [True, False, True]


def test_unfetchable_inner_status_is_status_unknown() -> None:
    url = "https://registry.example.edu.my/status/404"
    coas = [
        _with_status(code, name, i + 1, status_entry(url, 5))
        for i, (code, name) in enumerate(UNITS)
    ]
    fetcher = MappingFetcher({})
    report = verify_credential(
        _mms(coas), at=AT, resolver=Resolver(fetcher), fetcher=fetcher, trust=trust_for(ISSUER)
    )
    assert set(_stacking_codes(report)) == {"STACKING_INNER_STATUS_UNKNOWN"}
    assert not report.verified
    assert report.verdict == "status_unknown"


@pytest.mark.parametrize("count", [1, 5])
def test_stacking_scales_to_n_components(count: int) -> None:
    coas = [coa_for(ISSUER, LEARNER, f"U{i:03d}", f"Unit {i}", serial=i + 1) for i in range(count)]
    report = _verify(_mms(coas))
    assert report.verified
    assert report.credential is not None
    assert report.credential.credits == 3 * count


def _clr_vector() -> dict[str, Any]:
    page = VECTORS / "clr-2.0/linked-data-proof-clr.html"
    found = re.search(
        r'<pre class="example json" title="Signed credential">(.*?)</pre>', page.read_text(), re.S
    )
    assert found is not None
    doc: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return doc


def test_1edtech_clr_vector_is_not_held_to_programme_rules() -> None:
    controller = VECTORS / "openbadges-3.0/controller-document.generated.json"
    resolver = Resolver()
    resolver.add_document(json.loads(controller.read_text()))
    clr = _clr_vector()
    report = verify_credential(clr, at=AT, resolver=resolver, trust=trust_for(clr))
    assert report.verified, report.to_dict()
    assert report.checks["schema"].status == "passed"
    assert report.checks["stacking"].status in ("passed", "warning")
    assert "Comprehensive Learner Record" in report.checks["stacking"].message
    assert len(report.parts) == 1
    assert report.credential is not None
    assert report.credential.award_type == "CLR"
