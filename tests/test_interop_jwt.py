"""Open Badges 3.0 JWTs signed by ``sijil-issuer sign --suite vc-jwt``, checked with jwcrypto.

The keys are made by jwcrypto (RSA 2048 for ``RS256``, P-256 for ``ES256``: the algorithms the
1EdTech validator accepts) and handed to the command as private JWK files; jwcrypto then verifies
each compact JWS with its own public key and the token is read as OB 3.0 section 8.2 "JSON Web
Token Proof Format" says: header ``alg``/``kid``/``typ: JWT``, payload = the credential plus
``iss``, ``jti``, ``sub``, ``nbf``. The credential inside validates against the official schema
and names only published contexts.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from interop_support import (
    OB_ACHIEVEMENT_SCHEMA,
    issuable_contexts,
    named_contexts,
    schema_errors,
)
from jwcrypto import jwk, jws

from issuer.commands.sign import COMMAND as SIGN_COMMAND

ISSUER = "https://issuer.test.example/issuers/registrar"
CLAIMS = ("iss", "jti", "sub", "nbf")
KEYS: dict[str, dict[str, Any]] = {
    "RS256": {"kty": "RSA", "size": 2048},
    "ES256": {"kty": "EC", "crv": "P-256"},
}


def _credential() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:a63a60be-f4af-491c-87fc-2c8fd3007a58",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certificate of Completion: Data Analytics Fundamentals",
        "issuer": {"id": ISSUER, "type": ["Profile"], "name": "Registrar"},
        "validFrom": "2026-09-01T09:00:00Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.test.example/achievements/DAF101/coc",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": "Data Analytics Fundamentals",
                "description": "Collecting, cleaning and summarising data for decisions.",
                "criteria": {"narrative": "Every module completed."},
            },
        },
    }


def _sign(tmp_path: Path, alg: str) -> tuple[str, jwk.JWK]:
    key = jwk.JWK.generate(**KEYS[alg])
    kid = f"{ISSUER}#key-{alg.lower()}"
    private = json.loads(key.export_private())
    private["kid"] = kid
    key_file = tmp_path / f"{alg}.json"
    key_file.write_text(json.dumps(private))
    credential_file = tmp_path / "credential.json"
    credential_file.write_text(json.dumps(_credential()))
    result = CliRunner().invoke(
        SIGN_COMMAND,
        [
            "--suite",
            "vc-jwt",
            "--key",
            str(key_file),
            "--verification-method",
            kid,
            str(credential_file),
        ],
    )
    assert result.exit_code == 0, result.output
    public = jwk.JWK(**json.loads(key.export_public()))
    return result.output.strip(), public


def _verified_payload(token: str, public: jwk.JWK, alg: str) -> tuple[dict[str, Any], Any]:
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(public, alg=alg)
    return json.loads(signed.payload), signed.jose_header


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_ob3_jwt_verifies_in_jwcrypto(tmp_path: Path, alg: str) -> None:
    token, public = _sign(tmp_path, alg)
    payload, header = _verified_payload(token, public, alg)
    assert header["alg"] == alg
    assert header["kid"] == f"{ISSUER}#key-{alg.lower()}"
    assert header.get("typ", "JWT") == "JWT"
    assert set(header) <= {"alg", "kid", "typ", "jwk"}
    credential = _credential()
    assert payload["iss"] == ISSUER
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    assert payload["nbf"] == int(datetime(2026, 9, 1, 9, 0, tzinfo=UTC).timestamp())
    assert {k: v for k, v in payload.items() if k not in CLAIMS} == credential


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_ob3_jwt_payload_is_schema_valid_with_published_contexts(tmp_path: Path, alg: str) -> None:
    token, public = _sign(tmp_path, alg)
    payload, _ = _verified_payload(token, public, alg)
    assert schema_errors(payload, OB_ACHIEVEMENT_SCHEMA) == []
    assert named_contexts(payload) <= issuable_contexts()


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_ob3_jwt_with_changed_payload_fails_in_jwcrypto(tmp_path: Path, alg: str) -> None:
    token, public = _sign(tmp_path, alg)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Certificate of Completion: something else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jws.InvalidJWSSignature):
        _verified_payload(f"{header}.{forged}.{signature}", public, alg)
