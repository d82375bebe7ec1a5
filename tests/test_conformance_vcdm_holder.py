"""VC DM 2.0 section 4.13: a presentation's holder need not be its credentials' subject.

Holder binding ("the presenter is the subject") is a verifier policy, not plain verification;
callers that need it (credit transfer) ask for it with ``require_holder_binding``.
"""

from __future__ import annotations

from conformance_vcdm_support import (
    HOLDER,
    LEARNER,
    api_verify_presentation,
    core_verify,
    signed_badge,
    signed_presentation,
    verifier_app,
)

from keys.didkey import did_key_for


def test_holder_is_not_the_subject_and_the_presentation_verifies() -> None:
    vp = signed_presentation([signed_badge()])
    assert vp["holder"] == did_key_for(HOLDER) != LEARNER.did
    report = core_verify(vp)
    assert report.verified, report.to_dict()
    assert report.checks["issuer_binding"].status == "passed"


def test_holder_is_not_the_subject_through_the_vc_api() -> None:
    status, body = api_verify_presentation(
        verifier_app().test_client(), signed_presentation([signed_badge()])
    )
    assert status == 200, body
    assert body["verified"] is True


def test_holder_binding_policy_refuses_a_credential_about_someone_else() -> None:
    report = core_verify(signed_presentation([signed_badge()]), require_holder_binding=True)
    assert not report.verified
    assert report.checks["issuer_binding"].codes == ("HOLDER_MISMATCH",)


def test_holder_binding_policy_accepts_the_subjects_own_presentation() -> None:
    from verifier_fixtures import key_from_seed

    subject_key = key_from_seed(73)  # the learner's own DID key (conformance_vcdm_support)
    vp = signed_presentation([signed_badge()], holder=subject_key)
    report = core_verify(vp, require_holder_binding=True)
    assert report.verified, report.to_dict()
