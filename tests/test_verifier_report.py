"""``verify_credential``'s checks and report, in-process (validity, trust, binding, schema, JWT)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from verifier_fixtures import Learner, build_coa, coa_for, key_from_seed, sign, vm_of
from verifier_trust import trust_for

from contexts.errors import MalformedValueError, ParsingError
from keys.didkey import did_key_for
from keys.jose import sign_vc_jwt
from keys.resolve import Resolver
from verifier.errors import UnsupportedInputError
from verifier.report import CHECK_NAMES, VerificationReport, Verifier, verify_credential
from verifier.trust import TrustedIssuer, TrustList, load_trust_list
from verifier.validity import CLOCK_SKEW

AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(41)
LEARNER = Learner("Mei Ling Tan", "meiling@example.com", "salt-meiling")


def _coa(**kw: Any) -> dict[str, Any]:
    return coa_for(ISSUER, LEARNER, "DS301", "Big Data Engineering", serial=1, **kw)


def _verify(doc: Any, **kw: Any) -> VerificationReport:
    kw.setdefault("trust", trust_for(ISSUER))
    return verify_credential(doc, at=kw.pop("at", AT), resolver=Resolver(), **kw)


def test_valid_coa_report() -> None:
    report = _verify(_coa())
    assert report.verified
    assert report.verdict == "valid"
    assert tuple(report.checks) == CHECK_NAMES
    assert report.checks["issuer_binding"].status == "passed"
    assert report.checks["issuer_trust"].status == "passed"
    assert report.warnings == ()
    assert report.credential is not None
    assert report.credential.issuer_name == "Universiti Contoh Malaysia"
    assert report.credential.issuer_recognised
    assert report.credential.award_type == "COA"
    assert report.credential.date == "2026-01-15T00:00:00Z"
    json.dumps(report.to_dict())  # JSON-ready


def test_expired_credential() -> None:
    report = _verify(_coa(valid_until="2026-03-01T00:00:00Z"))
    assert report.verdict == "expired"
    assert report.checks["validity"].codes == ("CREDENTIAL_EXPIRED",)
    assert "expired on 2026-03-01" in report.checks["validity"].message


def test_not_yet_valid_beyond_clock_skew() -> None:
    start = AT + CLOCK_SKEW + timedelta(minutes=1)
    report = _verify(_coa(valid_from=start.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert report.verdict == "not_yet_valid"
    assert report.checks["validity"].codes == ("CREDENTIAL_NOT_YET_VALID",)


def test_valid_from_within_clock_skew_is_valid() -> None:
    start = AT + CLOCK_SKEW - timedelta(minutes=1)
    report = _verify(_coa(valid_from=start.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert report.verdict == "valid"


def test_vc11_expiration_date_is_honoured() -> None:
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": did_key_for(ISSUER),
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2026-02-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    report = _verify(sign(doc, ISSUER))
    assert report.checks["proof"].status == "passed"
    assert report.verdict == "expired"


def test_signer_is_not_the_issuer() -> None:
    stranger = key_from_seed(42)
    unsigned = build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1)
    report = _verify(sign(unsigned, stranger))
    assert report.checks["proof"].status == "passed"
    assert report.checks["issuer_binding"].codes == ("ISSUER_BINDING_ERROR",)
    assert report.verdict == "invalid"
    relaxed = _verify(sign(unsigned, stranger), issuer_binding=False)
    assert relaxed.checks["issuer_binding"].status == "skipped"
    # Binding off: the stranger's signature cannot borrow the listed issuer's standing.
    assert not relaxed.verified
    assert relaxed.verdict == "unknown_issuer"
    assert relaxed.checks["issuer_trust"].codes == ("ISSUER_NOT_TRUSTED",)


def test_tampered_subject_fails_proof() -> None:
    doc = _coa()
    doc["credentialSubject"]["creditsEarned"] = 30
    report = _verify(doc)
    assert report.checks["proof"].codes == ("PROOF_VERIFICATION_ERROR",)
    assert report.checks["issuer_binding"].status == "skipped"
    assert report.verdict == "invalid"
    assert report.credential is not None  # still summarised for the page


def test_unsigned_credential_is_invalid() -> None:
    report = _verify(build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1))
    assert report.checks["proof"].codes == ("MALFORMED_PROOF_ERROR",)
    assert report.checks["proof"].message == "The credential's signature is missing or malformed."


def test_schema_violation_has_pointer() -> None:
    unsigned = build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1)
    del unsigned["credentialSubject"]["achievement"]["criteria"]
    report = _verify(sign(unsigned, ISSUER))
    assert report.checks["proof"].status == "passed"
    assert report.checks["schema"].codes == ("SCHEMA_VALIDATION_ERROR",)
    error = next(e for e in report.errors if e["check"] == "schema")
    assert error["pointer"] == "/credentialSubject/achievement"
    assert report.verdict == "invalid"


def test_malformed_issuer_is_reported_not_raised() -> None:
    doc = _coa()
    doc["issuer"] = 42
    report = _verify(doc)
    assert not report.verified
    assert "MALFORMED_VALUE_ERROR" in report.checks["schema"].codes
    assert report.checks["validity"].status == "skipped"


def test_trust_list_listed_issuer() -> None:
    trust = TrustList.from_issuers([TrustedIssuer(did_key_for(ISSUER), "UCM")])
    report = _verify(_coa(), trust=trust)
    assert report.verified
    assert report.verdict == "valid"
    # The list's name is shown; the credential's own name differs, so a warning says so.
    assert report.checks["issuer_trust"].status == "warning"
    assert report.checks["issuer_trust"].codes == ("ISSUER_NAME_MISMATCH",)
    assert "UCM" in report.checks["issuer_trust"].message
    assert report.credential is not None
    assert report.credential.issuer_name == "UCM"
    assert report.credential.issuer_claimed_name == "Universiti Contoh Malaysia"


def test_trust_list_unlisted_issuer_is_unknown_issuer() -> None:
    trust = TrustList.from_issuers([TrustedIssuer("did:web:other.example", "Other")])
    report = _verify(_coa(), trust=trust)
    assert not report.verified
    assert report.verdict == "unknown_issuer"
    assert report.checks["issuer_trust"].codes == ("ISSUER_NOT_TRUSTED",)
    assert report.checks["issuer_trust"].message.startswith("The signature is valid, but")
    assert report.headline.startswith("Signature valid, issuer not recognised")


def test_unlisted_and_forged_is_invalid_not_unknown_issuer() -> None:
    trust = TrustList.from_issuers([TrustedIssuer("did:web:other.example", "Other")])
    doc = _coa()
    doc["name"] = "forged"
    report = _verify(doc, trust=trust)
    assert report.verdict == "invalid"
    assert not report.checks["issuer_trust"].message.startswith("The signature is valid")


def test_trust_file_format(tmp_path: Any) -> None:
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"issuers": [{"id": "did:web:a.example", "name": "A"}]}))
    trust = load_trust_list(path)
    assert trust.is_trusted("did:web:a.example")
    assert not trust.is_trusted("did:web:b.example")
    path.write_text(json.dumps({"issuers": [{"name": "no id"}]}))
    with pytest.raises(MalformedValueError) as caught:
        load_trust_list(path)
    assert caught.value.pointer == "/issuers/0/id"


def test_vc_jwt_verifies() -> None:
    unsigned = build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1)
    token = sign_vc_jwt(unsigned, ISSUER, kid=vm_of(ISSUER))
    report = _verify(token)
    assert report.verified, report.to_dict()
    assert report.format == "vc-jwt"
    assert report.checks["schema"].status == "passed"
    assert report.credential is not None
    assert report.credential.achievement_name == "Big Data"


def test_vc_jwt_enveloped_data_url_verifies() -> None:
    unsigned = build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1)
    token = sign_vc_jwt(unsigned, ISSUER, kid=vm_of(ISSUER))
    assert _verify("data:application/vc+jwt," + token).verified


def test_vc_jwt_signed_by_another_key_fails_binding() -> None:
    stranger = key_from_seed(43)
    unsigned = build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1)
    token = sign_vc_jwt(unsigned, stranger, kid=vm_of(stranger))
    report = _verify(token)
    assert report.checks["proof"].status == "passed"
    assert report.checks["issuer_binding"].codes == ("ISSUER_BINDING_ERROR",)
    assert not report.verified


def test_vc_jwt_with_changed_signature_fails() -> None:
    unsigned = build_coa(ISSUER, LEARNER, "DS301", "Big Data", serial=1)
    token = sign_vc_jwt(unsigned, ISSUER, kid=vm_of(ISSUER))
    head, payload, signature = token.split(".")
    forged = ".".join([head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    report = _verify(forged)
    assert report.checks["proof"].status == "failed"
    assert report.verdict == "invalid"


@pytest.mark.parametrize(
    "data",
    ["", "hello", b"\xff\xfe\x00", "[1]", '"just a string"'],
    ids=["empty", "text", "binary", "array", "string"],
)
def test_unreadable_input_raises_parsing_error(data: Any) -> None:
    with pytest.raises(ParsingError):
        _verify(data)


def test_json_that_is_not_a_credential_is_unsupported() -> None:
    with pytest.raises(UnsupportedInputError):
        _verify({"type": ["Thing"], "name": "not a credential"})


def test_duplicate_json_members_are_refused() -> None:
    text = json.dumps(_coa())[:-1] + ', "name": "second"}'
    with pytest.raises(ParsingError):
        _verify(text)


def test_json_text_and_bytes_inputs() -> None:
    doc = _coa()
    assert _verify(json.dumps(doc)).verified
    assert _verify(json.dumps(doc).encode()).verified


def test_verifier_instance_reuses_resolver() -> None:
    verifier = Verifier(resolver=Resolver(), trust=trust_for(ISSUER))
    doc = _coa()
    reports = [verifier.verify(copy.deepcopy(doc), at=AT) for _ in range(3)]
    assert all(r.verified for r in reports)
