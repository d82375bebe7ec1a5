"""Open Badges 3.0 section 8.2 "JSON Web Token Proof Format": RS256 and ES256 badges as JWTs.

The JOSE header is ``alg`` + ``kid`` (or ``jwk``) + ``typ: JWT``; the payload is the credential
with ``iss``/``jti``/``sub``/``nbf``/``exp`` mirroring it. Each token is verified by sijil (the
JOSE layer and the full report) and by jwcrypto on its own, an independent JWS/JWT library.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto import jwt as jwcrypto_jwt
from shared_dir import VECTORS

from contexts.errors import InvalidVerificationMethodError, MalformedValueError
from keys.didkey import did_key_for
from keys.jose import OB_JWT_TYP, decode_vc_jwt, sign_vc_jwt, verify_vc_jwt
from keys.keypair import KeyPair, RsaKeyPair
from keys.resolve import Resolver
from verifier.report import verify_credential
from verifier.trust import TrustList

ISSUER = "https://example.edu/issuers/565049"
AT = datetime(2026, 6, 1, tzinfo=UTC)
OB_ALGS = pytest.mark.parametrize(("key_type", "alg"), [("RSA", "RS256"), ("P-256", "ES256")])


@cache
def _issuer_key(key_type: str) -> KeyPair:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    return key.with_identity(id=f"{ISSUER}#key-{key_type.lower()}", controller=ISSUER)


def _controller_document(key: KeyPair) -> dict[str, Any]:
    """A did:web-style controller document publishing ``key`` as a JsonWebKey."""
    return {
        "@context": "https://www.w3.org/ns/cid/v1",
        "id": ISSUER,
        "verificationMethod": [
            {"id": key.id, "type": "JsonWebKey", "controller": ISSUER, "publicKeyJwk": key.to_jwk()}
        ],
        "assertionMethod": [key.id],
    }


def _resolver(key: KeyPair) -> Resolver:
    resolver = Resolver()
    resolver.add_document(_controller_document(key))
    return resolver


def _badge(issuer: str = ISSUER) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "openbadges-3.0" / "unsigned.json").read_text())
    data["issuer"]["id"] = issuer
    data["validUntil"] = "2030-01-01T00:00:00Z"
    return data


def _part(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return data


def _resign(key: KeyPair, header: dict[str, Any], payload: dict[str, Any]) -> str:
    def seg(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    signing_input = f"{seg(header)}.{seg(payload)}"
    signature = base64.urlsafe_b64encode(key.sign(signing_input.encode())).decode().rstrip("=")
    return f"{signing_input}.{signature}"


# -- the format -----------------------------------------------------------------------


@OB_ALGS
def test_ob_jwt_header_is_alg_kid_typ_jwt(key_type: str, alg: str) -> None:
    key = _issuer_key(key_type)
    token = sign_vc_jwt(_badge(), key)
    assert _part(token, 0) == {"alg": alg, "kid": key.id, "typ": OB_JWT_TYP}


@OB_ALGS
def test_ob_jwt_payload_is_the_credential_with_mirroring_claims(key_type: str, alg: str) -> None:
    badge = _badge()
    payload = _part(sign_vc_jwt(badge, _issuer_key(key_type)), 1)
    assert {k: v for k, v in payload.items() if k not in ("iss", "jti", "sub", "nbf", "exp")} == (
        badge
    )
    assert payload["iss"] == ISSUER
    assert payload["jti"] == badge["id"]
    assert payload["sub"] == badge["credentialSubject"]["id"]
    assert payload["nbf"] == int(datetime(2010, 1, 1, tzinfo=UTC).timestamp())
    assert payload["exp"] == int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())


def test_non_badge_credential_keeps_the_plain_vc_jose_cose_form() -> None:
    key = KeyPair.generate("P-256")
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_key_for(key),
        "credentialSubject": {"id": "did:example:subject"},
    }
    token = sign_vc_jwt(vc, key)
    assert _part(token, 0)["typ"] == "vc+jwt"
    assert _part(token, 1) == vc


# -- verified by sijil ----------------------------------------------------------------


@OB_ALGS
def test_ob_jwt_verifies_in_sijil(key_type: str, alg: str) -> None:
    key = _issuer_key(key_type)
    token = sign_vc_jwt(_badge(), key)
    assert verify_vc_jwt(token, _resolver(key), at=AT)["jti"] == _badge()["id"]
    trust = TrustList.from_dict({"issuers": [{"id": ISSUER, "name": "Example Corp"}]})
    report = verify_credential(
        token, at=AT, resolver=_resolver(key), trust=trust, check_status=False
    )
    assert report.verified, report.to_dict()
    assert report.format == "vc-jwt"
    assert report.checks["schema"].status == "passed"
    assert report.checks["issuer_binding"].status == "passed"


@OB_ALGS
def test_ob_jwt_verifies_in_jwcrypto(key_type: str, alg: str) -> None:
    key = _issuer_key(key_type)
    token = sign_vc_jwt(_badge(), key)
    public = jwcrypto_jwk.JWK(**key.to_jwk())
    parsed = jwcrypto_jws.JWS()
    parsed.deserialize(token)
    parsed.verify(public, alg=alg)
    assert json.loads(parsed.payload)["iss"] == ISSUER
    checked = jwcrypto_jwt.JWT(
        jwt=token,
        key=public,
        algs=[alg],
        check_claims={"iss": ISSUER, "jti": _badge()["id"], "nbf": None, "exp": None},
    )
    assert json.loads(checked.claims)["sub"] == _badge()["credentialSubject"]["id"]


@OB_ALGS
def test_we_verify_an_ob_jwt_made_by_jwcrypto(key_type: str, alg: str) -> None:
    key = _issuer_key(key_type)
    badge = _badge()
    claims = {
        **badge,
        "iss": ISSUER,
        "jti": badge["id"],
        "sub": badge["credentialSubject"]["id"],
        "nbf": 1262304000,
        "exp": 1893456000,
    }
    made = jwcrypto_jwt.JWT(header={"alg": alg, "kid": key.id, "typ": "JWT"}, claims=claims)
    made.make_signed_token(jwcrypto_jwk.JWK(**key.to_jwk(private=True)))
    assert verify_vc_jwt(made.serialize(), _resolver(key), at=AT) == claims


# -- what the profile requires ---------------------------------------------------------


@pytest.mark.parametrize("claim", ["iss", "jti", "sub", "nbf", "exp"])
def test_ob_jwt_missing_required_claim(claim: str) -> None:
    key = _issuer_key("P-256")
    token = sign_vc_jwt(_badge(), key)
    payload = _part(token, 1)
    del payload[claim]
    with pytest.raises(MalformedValueError) as info:
        verify_vc_jwt(_resign(key, _part(token, 0), payload), _resolver(key), at=AT)
    assert info.value.pointer == f"/{claim}"


@pytest.mark.parametrize(
    ("claim", "value"),
    [("jti", "urn:uuid:other"), ("sub", "did:example:other"), ("nbf", 1262304001), ("exp", 1)],
)
def test_ob_jwt_claim_disagreeing_with_the_credential(claim: str, value: Any) -> None:
    key = _issuer_key("P-256")
    token = sign_vc_jwt(_badge(), key)
    payload = _part(token, 1) | {claim: value}
    with pytest.raises(MalformedValueError) as info:
        verify_vc_jwt(_resign(key, _part(token, 0), payload), _resolver(key), at=AT)
    assert info.value.pointer == f"/{claim}"


def test_ob_jwt_expired_badge_reads_as_expired_not_as_a_bad_signature() -> None:
    key = _issuer_key("P-256")
    token = sign_vc_jwt(_badge(), key)
    report = verify_credential(
        token, at=datetime(2031, 1, 1, tzinfo=UTC), resolver=_resolver(key), check_status=False
    )
    assert report.checks["proof"].status == "passed"
    assert report.verdict == "expired"


# -- jwk in the header ----------------------------------------------------------------


def test_ob_jwt_with_kid_and_matching_jwk() -> None:
    key = _issuer_key("RSA")
    token = sign_vc_jwt(_badge(), key, include_jwk=True)
    assert _part(token, 0)["jwk"] == key.to_jwk()
    assert "d" not in _part(token, 0)["jwk"]
    assert verify_vc_jwt(token, _resolver(key), at=AT)["iss"] == ISSUER


def test_ob_jwt_with_a_jwk_that_is_not_the_kid_key() -> None:
    key = _issuer_key("P-256")
    token = sign_vc_jwt(_badge(), key)
    header = _part(token, 0) | {"jwk": KeyPair.generate("P-256").to_jwk()}
    with pytest.raises(InvalidVerificationMethodError):
        verify_vc_jwt(_resign(key, header, _part(token, 1)), _resolver(key), at=AT)


def test_ob_jwt_with_only_a_jwk_from_a_did_key_issuer() -> None:
    key = KeyPair.generate("P-256")
    token = sign_vc_jwt(_badge(did_key_for(key)), key, include_jwk=True)
    header = {k: v for k, v in _part(token, 0).items() if k != "kid"}
    assert verify_vc_jwt(_resign(key, header, _part(token, 1)), Resolver(), at=AT)


def test_ob_jwt_with_only_a_jwk_is_not_trusted_for_a_web_issuer() -> None:
    """The token must not vouch for its own key: a bare jwk says nothing about the issuer."""
    key = _issuer_key("RSA")
    token = sign_vc_jwt(_badge(), key, include_jwk=True)
    header = {k: v for k, v in _part(token, 0).items() if k != "kid"}
    with pytest.raises(InvalidVerificationMethodError):
        verify_vc_jwt(_resign(key, header, _part(token, 1)), Resolver(), at=AT)


# -- RSA keys -------------------------------------------------------------------------


def test_rsa_key_below_2048_bits_is_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with pytest.raises(MalformedValueError):
        RsaKeyPair(small)
    jwk = jwcrypto_jwk.JWK.from_pyca(small.public_key()).export_public(as_dict=True)
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk(jwk)
    with pytest.raises(MalformedValueError):
        RsaKeyPair.generate_rsa(1024)


def test_rsa_jwk_round_trip() -> None:
    key = _issuer_key("RSA")
    private = KeyPair.from_jwk(key.to_jwk(private=True))
    assert private.has_private
    assert private.public_key_bytes == key.public_key_bytes
    public = KeyPair.from_jwk(key.to_jwk())
    assert not public.has_private
    assert set(key.to_jwk()) == {"kty", "n", "e"}


def test_rsa_private_jwk_with_foreign_public_part_is_refused() -> None:
    jwk = _issuer_key("RSA").to_jwk(private=True)
    jwk["n"] = RsaKeyPair.generate_rsa().to_jwk()["n"]
    with pytest.raises(MalformedValueError):
        KeyPair.from_jwk(jwk)


def test_rsa_did_key_round_trip() -> None:
    key = _issuer_key("RSA")
    did = did_key_for(key)
    token = sign_vc_jwt(_badge(did), key.with_identity(id=None, controller=None))
    assert decode_vc_jwt(token)[0]["kid"] == f"{did}#{key.public_key_multibase}"
    assert verify_vc_jwt(token, Resolver(), at=AT)["iss"] == did
