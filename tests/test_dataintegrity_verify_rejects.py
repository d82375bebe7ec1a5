"""What verification must reject (Data Integrity 1.0 section 4.4 "Verify Proof" and the
cryptosuites' Verify Proof), each test named for what it breaks, plus proof purposes
(section 2.2), issuer binding and VC 1.1 input (section 2.4 / VC 1.1 compatibility).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contexts.errors import (
    ContextNotPinnedError,
    CryptosuiteError,
    DataLossDetectionError,
    InvalidVerificationMethodError,
    MalformedValueError,
    ProofGenerationError,
    ProofVerificationError,
)
from keys.dataintegrity import (
    SUITES,
    InvalidChallengeError,
    InvalidDomainError,
    InvalidProofDatetimeError,
    IssuerBindingError,
    MalformedProofError,
    MismatchedProofPurposeError,
    ProofExpiredError,
    add_proof,
    verify_proofs,
)
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from keys.resolve import Resolver

VECTORS = Path(__file__).resolve().parent / "vectors"
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
KEY_TYPE_OF = {
    "eddsa-rdfc-2022": "Ed25519",
    "eddsa-jcs-2022": "Ed25519",
    "ecdsa-rdfc-2019": "P-256",
    "ecdsa-jcs-2019": "P-384",
}


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _vector_signed() -> dict[str, Any]:
    return _json(VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json")


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, EXAMPLES_V2],
        "id": "urn:uuid:0b5b7d2c-6c4e-4d59-9a55-8d1c1ef1f0a1",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": {"id": issuer, "name": "Universiti Contoh"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "alumniOf": "Universiti Contoh"},
    }


def _signed(cryptosuite: str = "eddsa-rdfc-2022", **kwargs: Any) -> tuple[dict[str, Any], KeyPair]:
    """A credential whose issuer is the did:key that signs it."""
    key = KeyPair.generate(KEY_TYPE_OF[cryptosuite])  # type: ignore[arg-type]
    return add_proof(_credential(did_key_for(key)), key, cryptosuite=cryptosuite, **kwargs), key


def _presentation(holder: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
    }
    if holder is not None:
        doc["holder"] = holder
    return doc


EVERY_SUITE = pytest.mark.parametrize("cryptosuite", SUITES)


# -- positive baseline ----------------------------------------------------------------


@EVERY_SUITE
def test_issuer_signed_credential_verifies_with_issuer_binding(cryptosuite: str) -> None:
    signed, key = _signed(cryptosuite)
    [result] = verify_proofs(signed, Resolver())
    assert result.controller == did_key_for(key)
    assert result.proof_purpose == "assertionMethod"


def test_created_defaults_to_now_in_seconds_utc() -> None:
    signed, _ = _signed()
    created = signed["proof"]["created"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    assert abs(datetime.fromisoformat(created) - datetime.now(UTC)) < timedelta(minutes=5)


def test_created_from_aware_datetime() -> None:
    signed, _ = _signed(created=datetime(2026, 11, 29, 8, 0, 0, 123456, tzinfo=UTC))
    assert signed["proof"]["created"] == "2026-11-29T08:00:00Z"


# -- tampering ------------------------------------------------------------------------


@EVERY_SUITE
def test_tampered_subject(cryptosuite: str) -> None:
    signed, _ = _signed(cryptosuite)
    signed["credentialSubject"]["alumniOf"] = "Universiti Contoh!"
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(signed, Resolver())
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


@EVERY_SUITE
def test_tampered_issuer_name(cryptosuite: str) -> None:
    signed, _ = _signed(cryptosuite)
    signed["issuer"]["name"] = "Universiti Palsu"
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(signed, Resolver())
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


@EVERY_SUITE
def test_tampered_proof_value(cryptosuite: str) -> None:
    signed, _ = _signed(cryptosuite)
    value = signed["proof"]["proofValue"]
    swapped = "2" if value[10] != "2" else "3"
    signed["proof"]["proofValue"] = value[:10] + swapped + value[11:]
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(signed, Resolver())
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


@EVERY_SUITE
def test_tampered_proof_created(cryptosuite: str) -> None:
    signed, _ = _signed(cryptosuite, created="2026-01-01T00:00:00Z")
    signed["proof"]["created"] = "2026-01-01T00:00:01Z"
    with pytest.raises(ProofVerificationError):
        verify_proofs(signed, Resolver())


def test_wrong_key() -> None:
    """Signed with one key but naming another's verification method."""
    signer, other = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    vm = f"{did_key_for(other)}#{other.public_key_multibase}"
    signed = add_proof(_credential(did_key_for(other)), signer, verification_method=vm)
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(signed, Resolver())
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_jcs_proof_context_not_a_prefix_of_the_document_context() -> None:
    signed, _ = _signed("eddsa-jcs-2022")
    signed["proof"]["@context"] = [EXAMPLES_V2]
    with pytest.raises(ProofVerificationError) as info:
        verify_proofs(signed, Resolver())
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


# -- malformed proofs -----------------------------------------------------------------


def test_missing_proof() -> None:
    with pytest.raises(MalformedProofError) as info:
        verify_proofs(_credential("did:example:issuer"), Resolver())
    assert info.value.code == "MALFORMED_PROOF_ERROR"


def test_missing_proof_value() -> None:
    signed = _vector_signed()
    del signed["proof"]["proofValue"]
    with pytest.raises(MalformedValueError) as info:
        verify_proofs(signed, Resolver(), issuer_binding=False)
    assert info.value.code == "MALFORMED_PROOF_ERROR"


@pytest.mark.parametrize("value", ["u" + "A" * 86, "z0OIl", 42, ""])
def test_bad_multibase_proof_value(value: object) -> None:
    signed = _vector_signed()
    signed["proof"]["proofValue"] = value
    with pytest.raises(MalformedValueError) as info:
        verify_proofs(signed, Resolver(), issuer_binding=False)
    assert info.value.code == "MALFORMED_PROOF_ERROR"


@pytest.mark.parametrize("member", ["verificationMethod", "proofPurpose"])
def test_missing_required_proof_member(member: str) -> None:
    signed = _vector_signed()
    del signed["proof"][member]
    with pytest.raises(MalformedProofError):
        verify_proofs(signed, Resolver(), issuer_binding=False)


def test_proof_that_is_not_an_object() -> None:
    signed = _vector_signed()
    signed["proof"] = ["not a proof"]
    with pytest.raises(MalformedProofError):
        verify_proofs(signed, Resolver(), issuer_binding=False)


def test_unknown_cryptosuite() -> None:
    signed = _vector_signed()
    signed["proof"]["cryptosuite"] = "bbs-2023"
    with pytest.raises(CryptosuiteError) as info:
        verify_proofs(signed, Resolver(), issuer_binding=False)
    assert info.value.code == "PROOF_VERIFICATION_ERROR"
    with pytest.raises(CryptosuiteError):
        add_proof(_credential("did:example:i"), KeyPair.generate(), cryptosuite="bbs-2023")


def test_unknown_proof_type() -> None:
    signed = _vector_signed()
    signed["proof"]["type"] = "Ed25519Signature2020"
    with pytest.raises(CryptosuiteError):
        verify_proofs(signed, Resolver(), issuer_binding=False)


def test_ed25519_key_with_ecdsa_suite() -> None:
    ed = KeyPair.generate("Ed25519")
    with pytest.raises(CryptosuiteError):
        add_proof(_credential(did_key_for(ed)), ed, cryptosuite="ecdsa-rdfc-2019")
    signed = _vector_signed()
    signed["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    with pytest.raises(CryptosuiteError) as info:
        verify_proofs(signed, Resolver(), issuer_binding=False)
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_p256_key_with_eddsa_suite() -> None:
    p256 = KeyPair.generate("P-256")
    with pytest.raises(CryptosuiteError):
        add_proof(_credential(did_key_for(p256)), p256, cryptosuite="eddsa-jcs-2022")


def test_public_key_cannot_sign() -> None:
    key = KeyPair.generate().public_only()
    with pytest.raises(ProofGenerationError):
        add_proof(_credential(did_key_for(key)), key)


# -- purposes, challenge and domain ---------------------------------------------------


def test_wrong_purpose() -> None:
    with pytest.raises(MismatchedProofPurposeError) as info:
        verify_proofs(
            _vector_signed(),
            Resolver(),
            expected_purpose="authentication",
            challenge="c",
            issuer_binding=False,
        )
    assert info.value.code == "MISMATCHED_PROOF_PURPOSE_ERROR"


def test_authentication_proof_is_not_an_assertion() -> None:
    signed, _ = _signed(proof_purpose="authentication", challenge="c")
    with pytest.raises(MismatchedProofPurposeError):
        verify_proofs(signed, Resolver())


def _signed_presentation(key: KeyPair, holder: str | None, **kwargs: Any) -> dict[str, Any]:
    return add_proof(_presentation(holder), key, proof_purpose="authentication", **kwargs)


def test_presentation_with_challenge_and_domain_verifies() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(key, did_key_for(key), challenge="n-0S6", domain="verifier.example")
    [result] = verify_proofs(
        vp,
        Resolver(),
        expected_purpose="authentication",
        challenge="n-0S6",
        domain="verifier.example",
    )
    assert result.proof_purpose == "authentication"


def test_missing_challenge() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(key, did_key_for(key))
    with pytest.raises(InvalidChallengeError) as info:
        verify_proofs(vp, Resolver(), expected_purpose="authentication", challenge="n-0S6")
    assert info.value.code == "INVALID_CHALLENGE_ERROR"


def test_wrong_challenge() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(key, did_key_for(key), challenge="old")
    with pytest.raises(InvalidChallengeError):
        verify_proofs(vp, Resolver(), expected_purpose="authentication", challenge="new")


def test_authentication_without_expected_challenge() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(key, did_key_for(key), challenge="c")
    with pytest.raises(InvalidChallengeError):
        verify_proofs(vp, Resolver(), expected_purpose="authentication")


def test_wrong_domain() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(key, did_key_for(key), challenge="c", domain="a.example")
    with pytest.raises(InvalidDomainError) as info:
        verify_proofs(
            vp, Resolver(), expected_purpose="authentication", challenge="c", domain="b.example"
        )
    assert info.value.code == "INVALID_DOMAIN_ERROR"


def test_domain_list_in_proof() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(
        key, did_key_for(key), challenge="c", domain=["a.example", "b.example"]
    )
    [result] = verify_proofs(
        vp, Resolver(), expected_purpose="authentication", challenge="c", domain="b.example"
    )
    assert result.proof_purpose == "authentication"
    with pytest.raises(InvalidDomainError):
        verify_proofs(
            vp, Resolver(), expected_purpose="authentication", challenge="c", domain="c.example"
        )


def test_presentation_holder_binding_violation() -> None:
    key = KeyPair.generate()
    vp = _signed_presentation(key, "did:example:someone-else", challenge="c")
    with pytest.raises(IssuerBindingError) as info:
        verify_proofs(vp, Resolver(), expected_purpose="authentication", challenge="c")
    assert info.value.code == "ISSUER_BINDING_ERROR"


def test_verification_method_not_authorized_for_purpose() -> None:
    """The OB controller document lists its key for assertionMethod only."""
    ob = VECTORS / "openbadges-3.0"
    resolver = Resolver()
    resolver.add_document(_json(ob / "controller-document.generated.json"))
    key = KeyPair.from_multikey(_json(ob / "keyPair.json"))
    vp = add_proof(_presentation(None), key, proof_purpose="authentication", challenge="c")
    with pytest.raises(InvalidVerificationMethodError) as info:
        verify_proofs(vp, resolver, expected_purpose="authentication", challenge="c")
    assert info.value.code == "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"


# -- time -----------------------------------------------------------------------------


def test_expired_proof() -> None:
    signed, _ = _signed(created="2026-01-01T00:00:00Z", expires="2026-06-01T00:00:00Z")
    at = datetime(2026, 5, 31, tzinfo=UTC)
    assert len(verify_proofs(signed, Resolver(), at=at)) == 1
    with pytest.raises(ProofExpiredError) as info:
        verify_proofs(signed, Resolver(), at=datetime(2026, 6, 1, tzinfo=UTC))
    assert info.value.code == "PROOF_EXPIRED"


def test_expires_from_aware_datetime() -> None:
    expires = datetime(2027, 1, 1, 8, 0, tzinfo=UTC) + timedelta(hours=8)
    signed, _ = _signed(expires=expires)
    assert signed["proof"]["expires"] == "2027-01-01T16:00:00Z"
    with pytest.raises(ProofExpiredError):
        verify_proofs(signed, Resolver(), at=datetime(2027, 1, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    "created", ["2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "yesterday", 5]
)
def test_malformed_created(created: object) -> None:
    signed = _vector_signed()
    signed["proof"]["created"] = created
    with pytest.raises(InvalidProofDatetimeError) as info:
        verify_proofs(signed, Resolver(), issuer_binding=False)
    assert info.value.code == "INVALID_PROOF_DATETIME"


def test_naive_created_is_refused() -> None:
    key = KeyPair.generate()
    with pytest.raises(InvalidProofDatetimeError):
        add_proof(_credential(did_key_for(key)), key, created=datetime(2026, 1, 1))


def test_created_with_offset_and_fraction_verifies() -> None:
    signed, _ = _signed(created="2026-01-01T08:00:00.123456789+08:00")
    assert verify_proofs(signed, Resolver())[0].created == "2026-01-01T08:00:00.123456789+08:00"


# -- JSON-LD safety -------------------------------------------------------------------


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_undefined_term(cryptosuite: str) -> None:
    key = KeyPair.generate()
    doc = _credential(did_key_for(key))
    doc["@context"] = [CREDENTIALS_V2]
    doc["credentialSubject"] = {"id": "did:example:learner", "favouriteFood": "nasi lemak"}
    with pytest.raises(DataLossDetectionError) as info:
        add_proof(doc, key, cryptosuite=cryptosuite)
    assert info.value.code == "DATA_LOSS_DETECTION_ERROR"


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_undefined_term_added_after_signing(cryptosuite: str) -> None:
    """A v2-only credential gains an undefined top-level term: never silently unsigned."""
    key = KeyPair.generate()
    doc = _credential(did_key_for(key))
    doc["@context"] = [CREDENTIALS_V2]
    doc["credentialSubject"] = {"id": "did:example:learner"}
    doc["type"] = ["VerifiableCredential"]
    signed = add_proof(doc, key, cryptosuite=cryptosuite)
    signed["gradeAverage"] = "A+"
    with pytest.raises(DataLossDetectionError) as info:
        verify_proofs(signed, Resolver())
    assert info.value.code == "DATA_LOSS_DETECTION_ERROR"


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_unpinned_context(cryptosuite: str) -> None:
    key = KeyPair.generate()
    doc = _credential(did_key_for(key))
    doc["@context"] = [CREDENTIALS_V2, "https://contexts.example/unpinned/v1"]
    with pytest.raises(ContextNotPinnedError) as info:
        add_proof(doc, key, cryptosuite=cryptosuite)
    assert info.value.code == "CONTEXT_NOT_PINNED"
    signed = add_proof(_credential(did_key_for(key)), key, cryptosuite=cryptosuite)
    signed["@context"] = [*signed["@context"], "https://contexts.example/unpinned/v1"]
    with pytest.raises(ContextNotPinnedError):
        verify_proofs(signed, Resolver())


# -- issuer binding -------------------------------------------------------------------


def test_issuer_binding_violation() -> None:
    """The spec vectors' issuer is not the did:key that signed them."""
    with pytest.raises(IssuerBindingError) as info:
        verify_proofs(_vector_signed(), Resolver())
    assert info.value.code == "ISSUER_BINDING_ERROR"
    assert len(verify_proofs(_vector_signed(), Resolver(), issuer_binding=False)) == 1


def test_issuer_binding_with_issuer_string() -> None:
    key = KeyPair.generate()
    doc = _credential(did_key_for(key))
    doc["issuer"] = did_key_for(key)
    assert verify_proofs(add_proof(doc, key), Resolver())[0].controller == did_key_for(key)


def test_issuer_binding_violation_by_another_did_key() -> None:
    signer = KeyPair.generate()
    doc = add_proof(_credential(did_key_for(KeyPair.generate())), signer)
    with pytest.raises(IssuerBindingError):
        verify_proofs(doc, Resolver())


# -- VC 1.1 input ---------------------------------------------------------------------


def test_vc11_input_gets_the_data_integrity_context() -> None:
    key = KeyPair.generate()
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:5a1e5e42-8e7b-4b88-8b77-3c2a7c4c1d55",
        "type": ["VerifiableCredential"],
        "issuer": did_key_for(key),
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    before = copy.deepcopy(doc)
    signed = add_proof(doc, key)
    assert doc == before
    assert signed["@context"] == [
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/security/data-integrity/v2",
    ]
    assert verify_proofs(signed, Resolver())[0].cryptosuite == "eddsa-rdfc-2022"
    again = add_proof(signed, key, cryptosuite="eddsa-jcs-2022")
    assert again["@context"] == signed["@context"]
    assert len(verify_proofs(again, Resolver())) == 2
