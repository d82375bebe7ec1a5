"""VC-JOSE-COSE section 3.1.1 "Securing JSON-LD Verifiable Credentials with JOSE":
``application/vc+jwt`` round trips, interop with jwcrypto (an independent JWS
implementation), and the attacks an algorithm allowlist must stop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jws as jwcrypto_jws

from contexts.errors import (
    DataLossDetectionError,
    MalformedValueError,
    ParsingError,
    ProofGenerationError,
    ProofVerificationError,
)
from keys.dataintegrity import IssuerBindingError, ProofExpiredError
from keys.dataintegrity.errors import JwtAlgorithmNotAllowedError
from keys.didkey import did_key_for
from keys.jose import decode_vc_jwt, sign_vc_jwt, verify_vc_jwt
from keys.keypair import KeyPair
from keys.resolve import Resolver

VECTORS = Path(__file__).resolve().parent / "vectors"
KEY_TYPES = pytest.mark.parametrize(
    ("key_type", "alg"), [("Ed25519", "EdDSA"), ("P-256", "ES256"), ("P-384", "ES384")]
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _segment(obj: Any) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def _credential(issuer: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (
            VECTORS
            / "vc-jose-cose"
            / "L457-a-simple-example-of-a-verifiable-credential-secured-with-jose.json"
        ).read_text(encoding="utf-8")
    )
    data["issuer"] = issuer
    return data


def _vm(key: KeyPair) -> str:
    return f"{did_key_for(key)}#{key.public_key_multibase}"


def _token(key_type: str = "Ed25519") -> tuple[str, KeyPair, dict[str, Any]]:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    credential = _credential(did_key_for(key))
    return sign_vc_jwt(credential, key), key, credential


def _header(token: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return data


# -- round trips ----------------------------------------------------------------------


@KEY_TYPES
def test_sign_then_verify_returns_the_credential(key_type: str, alg: str) -> None:
    token, key, credential = _token(key_type)
    assert _header(token) == {"alg": alg, "kid": _vm(key), "typ": "vc+jwt"}
    assert verify_vc_jwt(token, Resolver()) == credential


@KEY_TYPES
def test_signing_is_deterministic(key_type: str, alg: str) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    credential = _credential(did_key_for(key))
    assert sign_vc_jwt(credential, key) == sign_vc_jwt(credential, key)


def test_payload_is_the_credential_json_itself() -> None:
    """3.1.1: the unsecured credential is the JWS payload (no ``vc`` claim)."""
    token, _, credential = _token()
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload == credential


def test_explicit_kid_with_pinned_controller_document() -> None:
    ob = VECTORS / "openbadges-3.0"
    key = KeyPair.from_multikey(json.loads((ob / "keyPair.json").read_text(encoding="utf-8")))
    resolver = Resolver()
    resolver.add_document(json.loads((ob / "controller-document.generated.json").read_text()))
    credential = _credential("https://example.edu/issuers/565049")
    token = sign_vc_jwt(credential, key)
    assert _header(token)["kid"] == key.id
    assert verify_vc_jwt(token, resolver) == credential


def test_relative_kid_resolves_against_the_issuer() -> None:
    key = KeyPair.generate()
    credential = _credential(did_key_for(key))
    token = sign_vc_jwt(credential, key, kid="#" + key.public_key_multibase)
    assert verify_vc_jwt(token, Resolver()) == credential


@KEY_TYPES
def test_jwcrypto_verifies_our_token(key_type: str, alg: str) -> None:
    token, key, _ = _token(key_type)
    parsed = jwcrypto_jws.JWS()
    parsed.deserialize(token)
    parsed.verify(key.to_jwcrypto(), alg=alg)
    assert parsed.jose_header["typ"] == "vc+jwt"


@KEY_TYPES
def test_we_verify_a_jwcrypto_token(key_type: str, alg: str) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    credential = _credential(did_key_for(key))
    signer = jwcrypto_jws.JWS(json.dumps(credential).encode("utf-8"))
    header = {"alg": alg, "typ": "vc+jwt", "cty": "vc", "kid": _vm(key)}
    signer.add_signature(key.to_jwcrypto(private=True), alg=alg, protected=json.dumps(header))
    assert verify_vc_jwt(signer.serialize(compact=True), Resolver()) == credential


# -- algorithm attacks ----------------------------------------------------------------


def test_alg_none() -> None:
    _, key, credential = _token()
    header = {"alg": "none", "typ": "vc+jwt", "kid": _vm(key)}
    forged = f"{_segment(header)}.{_segment(credential)}."
    with pytest.raises(JwtAlgorithmNotAllowedError) as info:
        verify_vc_jwt(forged, Resolver())
    assert info.value.code == "JWT_ALGORITHM_NOT_ALLOWED"


def test_alg_hs256_confusion() -> None:
    """HMAC keyed with the issuer's *public* key: the classic confusion attack."""
    key = KeyPair.generate("P-256")
    credential = _credential(did_key_for(key))
    header = {"alg": "HS256", "typ": "vc+jwt", "kid": _vm(key)}
    signing_input = f"{_segment(header)}.{_segment(credential)}"
    mac = hmac.new(key.public_key_bytes, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(JwtAlgorithmNotAllowedError) as info:
        verify_vc_jwt(f"{signing_input}.{_b64(mac)}", Resolver())
    assert info.value.code == "JWT_ALGORITHM_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("key_type", "alg"),
    [("Ed25519", "ES256"), ("P-256", "EdDSA"), ("P-256", "ES384"), ("P-384", "ES256")],
)
def test_alg_that_does_not_match_the_key(key_type: str, alg: str) -> None:
    token, key, _ = _token(key_type)
    header = {"alg": alg, "typ": "vc+jwt", "kid": _vm(key)}
    forged = f"{_segment(header)}.{token.split('.', 1)[1]}"
    with pytest.raises(JwtAlgorithmNotAllowedError):
        verify_vc_jwt(forged, Resolver())


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES512", "ES256K", "eddsa", "", None])
def test_alg_outside_the_allowlist(alg: object) -> None:
    token, key, _ = _token()
    header = {"alg": alg, "typ": "vc+jwt", "kid": _vm(key)}
    forged = f"{_segment(header)}.{token.split('.', 1)[1]}"
    with pytest.raises(JwtAlgorithmNotAllowedError):
        verify_vc_jwt(forged, Resolver())


# -- tampering and binding ------------------------------------------------------------


@KEY_TYPES
def test_jwt_tampered_payload(key_type: str, alg: str) -> None:
    token, _, credential = _token(key_type)
    credential["credentialSubject"]["degree"]["name"] = "Doctor of Philosophy"
    header, _, signature = token.split(".")
    with pytest.raises(ProofVerificationError) as info:
        verify_vc_jwt(f"{header}.{_segment(credential)}.{signature}", Resolver())
    assert info.value.code == "PROOF_VERIFICATION_ERROR"


def test_jwt_tampered_signature() -> None:
    token, _, _ = _token()
    head, payload, signature = token.split(".")
    flipped = _b64(
        bytes([base64.urlsafe_b64decode(signature + "==")[0] ^ 1])
        + base64.urlsafe_b64decode(signature + "==")[1:]
    )
    with pytest.raises(ProofVerificationError):
        verify_vc_jwt(f"{head}.{payload}.{flipped}", Resolver())


def test_jwt_wrong_key() -> None:
    key, other = KeyPair.generate(), KeyPair.generate()
    token = sign_vc_jwt(_credential(did_key_for(other)), key, kid=_vm(other))
    with pytest.raises(ProofVerificationError):
        verify_vc_jwt(token, Resolver())


def test_jwt_issuer_binding_violation() -> None:
    key = KeyPair.generate()
    token = sign_vc_jwt(_credential("https://university.example/issuers/565049"), key)
    with pytest.raises(IssuerBindingError) as info:
        verify_vc_jwt(token, Resolver())
    assert info.value.code == "ISSUER_BINDING_ERROR"
    assert verify_vc_jwt(token, Resolver(), issuer_binding=False)["issuer"].startswith("https:")


def test_jwt_iss_conflicting_with_issuer() -> None:
    key = KeyPair.generate()
    credential = _credential(did_key_for(key))
    credential["iss"] = "did:example:someone-else"
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": _vm(key)}
    signing_input = f"{_segment(header)}.{_segment(credential)}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    with pytest.raises(MalformedValueError) as info:
        verify_vc_jwt(token, Resolver())
    assert info.value.code == "MALFORMED_VALUE_ERROR"


def test_registered_claims_beside_the_credential() -> None:
    """iss / iat / exp are JWT claims, not JSON-LD terms: allowed, and checked."""
    key = KeyPair.generate()
    credential = _credential(did_key_for(key))
    credential.update(iss=did_key_for(key), iat=1767225600, exp=4102444800)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": _vm(key)}
    signing_input = f"{_segment(header)}.{_segment(credential)}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    assert verify_vc_jwt(token, Resolver(), at=datetime(2026, 6, 1, tzinfo=UTC)) == credential


def test_jwt_expired() -> None:
    key = KeyPair.generate()
    credential = _credential(did_key_for(key))
    credential["exp"] = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": _vm(key)}
    signing_input = f"{_segment(header)}.{_segment(credential)}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    with pytest.raises(ProofExpiredError) as info:
        verify_vc_jwt(token, Resolver(), at=datetime(2026, 1, 2, tzinfo=UTC))
    assert info.value.code == "PROOF_EXPIRED"


def test_jwt_payload_with_undefined_term() -> None:
    key = KeyPair.generate()
    credential = _credential(did_key_for(key))
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    with pytest.raises(DataLossDetectionError):
        sign_vc_jwt(credential, key)


# -- strict parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.rsplit(".", 1)[0],  # two segments
        lambda t: t + ".x",  # four segments
        lambda t: t.split(".")[0] + "=." + t.split(".", 1)[1],  # padding
        lambda t: "e30." + t.split(".", 1)[1].replace(".", "!.", 1),  # bad alphabet
        lambda t: "bm90IGpzb24." + t.split(".", 1)[1],  # header not JSON
        lambda t: _segment(["alg"]) + "." + t.split(".", 1)[1],  # header not an object
        lambda t: t.replace(".", "..", 1),  # empty segment
        lambda t: "\u00e9" + t,  # not ASCII
    ],
    ids=[
        "2-segments",
        "4-segments",
        "padding",
        "alphabet",
        "header-json",
        "header-array",
        "empty-segment",
        "non-ascii",
    ],
)
def test_malformed_token(mangle: Any) -> None:
    token, _, _ = _token()
    with pytest.raises(ParsingError) as info:
        verify_vc_jwt(mangle(token), Resolver())
    assert info.value.code in {"PARSING_ERROR", "JWT_ALGORITHM_NOT_ALLOWED"}


def test_duplicate_header_member() -> None:
    token, key, _ = _token()
    raw = '{"alg":"EdDSA","alg":"none","typ":"vc+jwt","kid":"' + _vm(key) + '"}'
    forged = f"{_b64(raw.encode())}.{token.split('.', 1)[1]}"
    with pytest.raises(ParsingError) as info:
        verify_vc_jwt(forged, Resolver())
    assert info.value.code == "PARSING_ERROR"


@pytest.mark.parametrize(
    "extra",
    [{"typ": "JOSE"}, {"typ": 7}, {"cty": "json"}, {"crit": ["b64"], "b64": False}],
    ids=["typ-jose", "typ-not-a-string", "cty", "crit"],
)
def test_header_that_is_not_vc_jwt(extra: dict[str, Any]) -> None:
    key = KeyPair.generate()
    credential = _credential(did_key_for(key))
    header: dict[str, Any] = {"alg": "EdDSA", "typ": "vc+jwt", "kid": _vm(key), **extra}
    header = {k: v for k, v in header.items() if v is not None}
    signing_input = f"{_segment(header)}.{_segment(credential)}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    with pytest.raises(ParsingError) as info:
        verify_vc_jwt(token, Resolver())
    assert info.value.code == "PARSING_ERROR"


def test_vc_claim_is_refused() -> None:
    """Appendix: the JWT claim names vc and vp MUST NOT be present."""
    key = KeyPair.generate()
    with pytest.raises(ProofGenerationError):
        sign_vc_jwt({"vc": _credential(did_key_for(key))}, key)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": _vm(key)}
    signing_input = f"{_segment(header)}.{_segment({'vc': _credential(did_key_for(key))})}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    with pytest.raises(ParsingError):
        decode_vc_jwt(token)


def test_missing_kid() -> None:
    key = KeyPair.generate()
    header = {"alg": "EdDSA", "typ": "vc+jwt"}
    signing_input = f"{_segment(header)}.{_segment(_credential(did_key_for(key)))}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"
    with pytest.raises(MalformedValueError):
        verify_vc_jwt(token, Resolver())
