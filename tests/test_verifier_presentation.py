"""Learner-signed presentations: challenge and domain, replay, unsigned, holder binding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from verifier_fixtures import (
    Learner,
    build_coa,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
    vm_of,
)
from verifier_trust import trust_for

from keys.didkey import did_key_for
from keys.jose import sign_vc_jwt
from keys.resolve import Resolver
from verifier.fetchers import MappingFetcher
from verifier.report import VerificationReport, verify_credential

AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(61)
HOLDER = key_from_seed(62)
HOLDER_DID = did_key_for(HOLDER)
LEARNER = Learner("Hafiz bin Osman", "hafiz@example.com", "salt-hafiz", did=HOLDER_DID)
CHALLENGE = "f3c1b2a0-credit-transfer-2026"
DOMAIN = "https://admissions.example.edu.my"


def _vp(credentials: list[Any], *, holder: str = HOLDER_DID) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": credentials,
    }


def _signed_vp(credentials: list[Any], key: Any = HOLDER, **kw: Any) -> dict[str, Any]:
    options = {"challenge": CHALLENGE, "domain": DOMAIN} | kw
    return sign(_vp(credentials), key, proof_purpose="authentication", **options)


def _coa(serial: int = 1, **kw: Any) -> dict[str, Any]:
    return coa_for(ISSUER, LEARNER, f"DS5{serial:02d}", f"Unit {serial}", serial=serial, **kw)


def _verify(doc: dict[str, Any], **kw: Any) -> VerificationReport:
    options = {"challenge": CHALLENGE, "domain": DOMAIN} | kw
    options.setdefault("trust", trust_for(ISSUER))
    return verify_credential(doc, at=AT, resolver=Resolver(), **options)


def test_signed_presentation_with_challenge_and_domain() -> None:
    report = _verify(_signed_vp([_coa(1), _coa(2)]))
    assert report.verified, report.to_dict()
    assert report.kind == "presentation"
    assert report.verdict == "valid"
    assert report.holder == HOLDER_DID
    assert len(report.parts) == 2
    assert all(part.verified for part in report.parts)
    out = report.to_dict()
    assert out["presentation"]["holder"] == HOLDER_DID
    assert len(out["credentials"]) == 2


def test_replayed_presentation_wrong_challenge_refused() -> None:
    report = _verify(_signed_vp([_coa()]), challenge="another-request")
    assert not report.verified
    assert report.verdict == "invalid"
    assert report.checks["proof"].codes == ("INVALID_CHALLENGE_ERROR",)
    assert "replay" in report.checks["proof"].message


def test_replayed_presentation_wrong_domain_refused() -> None:
    report = _verify(_signed_vp([_coa()]), domain="https://other-verifier.example")
    assert not report.verified
    assert report.checks["proof"].codes == ("INVALID_DOMAIN_ERROR",)


def test_presentation_with_assertion_purpose_refused() -> None:
    vp = sign(_vp([_coa()]), HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    report = _verify(vp)
    assert not report.verified
    assert report.checks["proof"].codes == ("MISMATCHED_PROOF_PURPOSE_ERROR",)


def test_unsigned_presentation_refused_by_default() -> None:
    report = _verify(_vp([_coa()]))
    assert not report.verified
    assert report.checks["proof"].codes == ("PRESENTATION_NOT_SIGNED",)


def test_unsigned_presentation_accepted_where_policy_allows() -> None:
    report = _verify(_vp([_coa()]), allow_unsigned_presentation=True)
    assert report.verified
    assert report.checks["proof"].status == "warning"
    assert report.warnings[0]["code"] == "PRESENTATION_NOT_SIGNED"


def test_presentation_signed_by_someone_else_than_holder() -> None:
    stranger = key_from_seed(63)
    report = _verify(_signed_vp([_coa()], key=stranger))
    assert report.checks["proof"].status == "passed"
    assert report.checks["issuer_binding"].codes == ("ISSUER_BINDING_ERROR",)
    assert not report.verified


def test_credential_about_someone_else_verifies_without_holder_binding_policy() -> None:
    other = Learner("Someone Else", "else@example.com", "salt-else", did="did:example:else")
    alien = coa_for(ISSUER, other, "DS599", "Other Unit", serial=9)
    report = _verify(_signed_vp([_coa(), alien]))
    assert report.verified, report.to_dict()
    assert report.checks["issuer_binding"].status == "passed"


def test_credential_about_someone_else_is_holder_mismatch_under_holder_binding_policy() -> None:
    other = Learner("Someone Else", "else@example.com", "salt-else", did="did:example:else")
    alien = coa_for(ISSUER, other, "DS599", "Other Unit", serial=9)
    report = _verify(_signed_vp([_coa(), alien]), require_holder_binding=True)
    assert not report.verified
    assert report.checks["issuer_binding"].codes == ("HOLDER_MISMATCH",)
    assert alien["id"] in report.checks["issuer_binding"].message


def test_each_embedded_credential_is_verified() -> None:
    tampered = _coa(2)
    tampered["credentialSubject"]["creditsEarned"] = 12
    report = _verify(_signed_vp([_coa(1), tampered]))
    assert report.checks["proof"].status == "failed"
    assert report.checks["proof"].codes == ("PROOF_VERIFICATION_ERROR",)
    assert "Unit 2" in report.checks["proof"].message
    assert [p.verdict for p in report.parts] == ["valid", "invalid"]
    assert not report.verified


def test_revoked_credential_in_a_presentation() -> None:
    url = "https://registry.example.edu.my/status/vp"
    fetcher = MappingFetcher({url: status_list(ISSUER, url, set_bits=[3])})
    revoked = _coa(1, status=[status_entry(url, 3)])
    report = verify_credential(
        _signed_vp([revoked]),
        at=AT,
        resolver=Resolver(fetcher),
        fetcher=fetcher,
        trust=trust_for(ISSUER),
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    assert report.verdict == "revoked"
    assert report.checks["status"].codes == ("CREDENTIAL_REVOKED",)


def test_enveloped_vc_jwt_in_presentation() -> None:
    token = sign_vc_jwt(
        build_coa(ISSUER, LEARNER, "DS510", "Unit 10", serial=10), ISSUER, kid=vm_of(ISSUER)
    )
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "data:application/vc+jwt," + token,
        "type": "EnvelopedVerifiableCredential",
    }
    report = _verify(_signed_vp([enveloped]))
    assert report.verified, report.to_dict()
    assert report.parts[0].format == "vc-jwt"
