"""``sijil-issuer sign``: every registered format, RSA/P-256 JWK key files, OB 3.0 JWTs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from shared_dir import VECTORS

from issuer.cli import cli
from issuer.commands.sign import SUITE_CHOICES
from keys.didkey import did_key_for
from keys.formats import FORMAT_NAMES
from keys.jose import verify_vc_jwt
from keys.keypair import KeyPair
from keys.resolve import Resolver


def _badge(issuer: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "openbadges-3.0" / "unsigned.json").read_text())
    data["issuer"]["id"] = issuer
    return data


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["sign", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_suite_choices_are_the_format_registry() -> None:
    assert SUITE_CHOICES == FORMAT_NAMES
    assert "vc-jwt" in SUITE_CHOICES


@pytest.mark.parametrize(("key_type", "alg"), [("RSA", "RS256"), ("P-256", "ES256")])
def test_sign_vc_jwt_with_a_jwk_key_file(tmp_path: Path, key_type: str, alg: str) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    did = did_key_for(key)
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key.to_jwk(private=True)))
    badge_file = tmp_path / "badge.json"
    badge_file.write_text(json.dumps(_badge(did)))
    token = _run("--key", str(key_file), "--suite", "vc-jwt", str(badge_file))
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": alg, "kid": f"{did}#{key.public_key_multibase}", "typ": "JWT"}
    assert verify_vc_jwt(token, Resolver())["iss"] == did
    parsed = jwcrypto_jws.JWS()
    parsed.deserialize(token)
    parsed.verify(jwcrypto_jwk.JWK(**key.to_jwk()), alg=alg)


def test_rsa_key_with_a_data_integrity_suite_is_unsupported(tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(KeyPair.generate("RSA").to_jwk(private=True)))
    badge_file = tmp_path / "badge.json"
    badge_file.write_text(json.dumps(_badge("did:example:issuer")))
    result = CliRunner().invoke(
        cli, ["sign", "--key", str(key_file), "--suite", "eddsa-rdfc-2022", str(badge_file)]
    )
    assert result.exit_code != 0
    assert result.stderr.startswith("UNSUPPORTED_FORMAT:")
