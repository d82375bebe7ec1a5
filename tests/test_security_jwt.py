"""JWT ``alg: none`` and algorithm confusion refused at the verifier's entry points.

``tests/test_jose_vcjwt.py`` covers :func:`keys.jose.verify_vc_jwt` itself; here the forged
tokens go through :meth:`verifier.report.Verifier.verify` and ``POST /credentials/verify``, so
a future shortcut around the JOSE module (a second parser, a format sniffer) cannot let them in.
A genuine token of the same key verifies, so each refusal is about the algorithm alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from verifier_fixtures import Learner, build_coa, key_from_seed

from contexts.errors import SijilError
from keys.didkey import did_key_for
from keys.jose import sign_vc_jwt
from keys.keypair import KeyPair
from verifier.settings import VerifierSettings
from verifier.web import create_app


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _segment(obj: Any) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def _genuine(key: KeyPair) -> tuple[str, dict[str, Any]]:
    credential = build_coa(
        key, Learner("Farah", "farah@example.com", "salt"), "DS601", "Data Ethics", serial=1
    )
    return sign_vc_jwt(credential, key), credential


def _kid(key: KeyPair) -> str:
    return f"{did_key_for(key)}#{key.public_key_multibase}"


def _forgeries(key: KeyPair, credential: dict[str, Any]) -> dict[str, str]:
    kid = _kid(key)
    payload = _segment(credential)
    none = f"{_segment({'alg': 'none', 'typ': 'vc+jwt', 'kid': kid})}.{payload}."
    none_upper = f"{_segment({'alg': 'None', 'typ': 'vc+jwt', 'kid': kid})}.{payload}."
    hs_input = f"{_segment({'alg': 'HS256', 'typ': 'vc+jwt', 'kid': kid})}.{payload}"
    mac = hmac.new(key.public_key_bytes, hs_input.encode(), hashlib.sha256).digest()
    # the same header, MAC keyed with the public Multikey text instead of its bytes
    mb_mac = hmac.new(key.public_key_multibase.encode(), hs_input.encode(), hashlib.sha256)
    return {
        "alg-none": none,
        "alg-None": none_upper,
        "hs256-public-key-bytes": f"{hs_input}.{_b64(mac)}",
        "hs256-public-multikey": f"{hs_input}.{_b64(mb_mac.digest())}",
    }


KEY = key_from_seed(21)
GENUINE, CREDENTIAL = _genuine(KEY)
FORGED = _forgeries(KEY, CREDENTIAL)


def test_the_genuine_token_verifies() -> None:
    report = VerifierSettings().build_verifier().verify(GENUINE).to_dict()
    assert report["checks"]["proof"]["status"] == "passed", report["errors"]


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_algorithm_refused_by_the_core(name: str) -> None:
    # The whole input is refused before any report: no "unknown" verdict to misread.
    with pytest.raises(SijilError) as err:
        VerifierSettings().build_verifier().verify(FORGED[name])
    assert err.value.code == "JWT_ALGORITHM_NOT_ALLOWED"


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_algorithm_refused_by_the_api(name: str) -> None:
    client = create_app(VerifierSettings()).test_client()
    response = client.post("/credentials/verify", json={"verifiableCredential": FORGED[name]})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "JWT_ALGORITHM_NOT_ALLOWED"
    genuine = client.post("/credentials/verify", json={"verifiableCredential": GENUINE})
    assert genuine.get_json()["checks"]["proof"]["status"] == "passed"
