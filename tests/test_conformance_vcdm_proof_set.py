"""Data Integrity 1.0 section 4.5 with VC DM 2.0 section 4.7: in a proof set or chain every
proof must verify and at least one must be the issuer's; the others (an endorsement, a notary)
may be by anyone.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conformance_vcdm_support import (
    AT,
    ISSUER,
    api_verify_credential,
    badge,
    core_verify,
    signed_badge,
    verifier_app,
)
from verifier_fixtures import key_from_seed, sign

NOTARY = key_from_seed(74)


def _endorsed() -> dict[str, Any]:
    """The issuer's proof plus a notary's proof over the same credential (a proof set)."""
    return sign(signed_badge(), NOTARY)


def _chained() -> dict[str, Any]:
    issued = sign(badge(), ISSUER, proof_id="urn:uuid:issuer-proof")
    return sign(issued, NOTARY, previous_proof="urn:uuid:issuer-proof")


def test_proof_set_with_an_endorsement_by_another_key_verifies() -> None:
    report = core_verify(_endorsed())
    assert report.verified, report.to_dict()
    assert len(report.proofs) == 2


def test_proof_chain_with_a_notary_proof_verifies() -> None:
    report = core_verify(_chained())
    assert report.verified, report.to_dict()


def test_proof_set_with_an_endorsement_through_the_vc_api() -> None:
    status, body = api_verify_credential(verifier_app().test_client(), _endorsed())
    assert status == 200, body
    assert len(body["proofs"]) == 2


def test_proof_set_without_an_issuer_proof_is_issuer_binding_error() -> None:
    unsigned = badge()
    report = core_verify(sign(sign(unsigned, NOTARY), key_from_seed(75)))
    assert not report.verified
    assert report.checks["issuer_binding"].codes == ("ISSUER_BINDING_ERROR",)
    status, body = api_verify_credential(
        verifier_app().test_client(), sign(sign(unsigned, NOTARY), key_from_seed(75))
    )
    assert status == 422
    assert body["code"] == "ISSUER_BINDING_ERROR"


def test_proof_set_with_a_broken_endorsement_fails() -> None:
    """Every proof must verify: an invalid extra proof is not ignored."""
    doc = _endorsed()
    broken = copy.deepcopy(doc)
    value = broken["proof"][1]["proofValue"]
    broken["proof"][1]["proofValue"] = value[:-2] + ("1" if value[-2] != "1" else "2") + value[-1]
    report = core_verify(broken)
    assert not report.verified
    assert report.checks["proof"].status == "failed"


def test_keys_layer_binds_one_proof_of_the_set_to_the_issuer() -> None:
    """``verify_proofs(issuer_binding=True)``: all proofs verify, one is the issuer's."""
    from keys.dataintegrity import verify_proofs
    from keys.dataintegrity.errors import IssuerBindingError
    from keys.didkey import did_key_for
    from keys.resolve import Resolver

    results = verify_proofs(_endorsed(), Resolver(), at=AT, issuer_binding=True)
    assert [r.controller for r in results] == [did_key_for(ISSUER), did_key_for(NOTARY)]
    with pytest.raises(IssuerBindingError):
        verify_proofs(sign(badge(), NOTARY), Resolver(), at=AT, issuer_binding=True)
