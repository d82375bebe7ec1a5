"""VC DM 2.0 section 4.13 / VC-JOSE-COSE: ``verifiableCredential`` holds credential objects; a
string is only a compact JWT. A JSON *string* holding a Data Integrity credential is refused.
"""

from __future__ import annotations

import json

from conformance_vcdm_support import (
    ISSUER,
    api_verify_credential,
    api_verify_presentation,
    badge,
    core_verify,
    signed_badge,
    signed_presentation,
    verifier_app,
)
from verifier_fixtures import vm_of

from keys.jose import sign_vc_jwt


def test_json_string_credential_in_a_presentation_is_refused() -> None:
    vp = signed_presentation([json.dumps(signed_badge())])
    report = core_verify(vp)
    assert not report.verified
    assert report.parts[0].checks["proof"].codes == ("MALFORMED_VALUE_ERROR",)


def test_json_string_credential_in_a_presentation_through_the_vc_api() -> None:
    status, body = api_verify_presentation(
        verifier_app().test_client(), signed_presentation([json.dumps(signed_badge())])
    )
    assert status == 422
    assert body["code"] == "MALFORMED_VALUE_ERROR"


def test_json_string_credential_through_the_vc_api_is_a_bad_request() -> None:
    status, body = api_verify_credential(verifier_app().test_client(), json.dumps(signed_badge()))
    assert status == 400
    assert body["code"] == "MALFORMED_VALUE_ERROR"
    assert body["pointer"] == "/verifiableCredential"


def test_compact_jwt_string_in_a_presentation_verifies() -> None:
    token = sign_vc_jwt(badge(), ISSUER, kid=vm_of(ISSUER))
    report = core_verify(signed_presentation([token]))
    assert report.verified, report.to_dict()
    assert report.parts[0].format == "vc-jwt"


def test_compact_jwt_string_through_the_vc_api_verifies() -> None:
    token = sign_vc_jwt(badge(), ISSUER, kid=vm_of(ISSUER))
    status, body = api_verify_credential(verifier_app().test_client(), token)
    assert status == 200, body
    assert body["format"] == "vc-jwt"
