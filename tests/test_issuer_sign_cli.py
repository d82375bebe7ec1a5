"""``sijil-issuer sign`` against the spec vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer.cli import cli
from keys.dataintegrity import verify_proofs
from keys.didkey import did_key_for
from keys.jose import verify_vc_jwt
from keys.keypair import KeyPair
from keys.resolve import Resolver

VECTORS = Path(__file__).resolve().parent / "vectors"

CASES = [
    ("eddsa-rdfc-2022", "eddsa-rdfc-2022", "keyPair.json", "unsigned.json", "signedDataInt.json"),
    ("eddsa-jcs-2022", "eddsa-jcs-2022", "keyPair.json", "unsigned.json", "signedJCS.json"),
    (
        "ecdsa-rdfc-2019/p256",
        "ecdsa-rdfc-2019",
        "p256KeyPair.json",
        "unsigned.json",
        "signedECDSAP256.json",
    ),
    (
        "ecdsa-rdfc-2019/p384",
        "ecdsa-rdfc-2019",
        "p384KeyPair.json",
        "unsigned.json",
        "signedECDSAP384.json",
    ),
    (
        "ecdsa-jcs-2019/p256",
        "ecdsa-jcs-2019",
        "p256KeyPair.json",
        "unsigned.json",
        "signedJCSECDSAP256.json",
    ),
    (
        "ecdsa-jcs-2019/p384",
        "ecdsa-jcs-2019",
        "p384KeyPair.json",
        "unsigned.json",
        "signedJCSECDSAP384.json",
    ),
    ("openbadges-3.0", "eddsa-rdfc-2022", "keyPair.json", "unsigned.json", "signed.json"),
]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _sign(*args: str) -> str:
    result = CliRunner().invoke(cli, ["sign", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("folder", "suite", "key", "unsigned", "signed"), CASES, ids=[c[0] for c in CASES]
)
def test_sign_reproduces_vector(
    folder: str, suite: str, key: str, unsigned: str, signed: str
) -> None:
    base = VECTORS / folder
    expected = _load(base / signed)
    out = _sign(
        "--key", str(base / key),
        "--suite", suite,
        "--created", expected["proof"]["created"],
        str(base / unsigned),
    )  # fmt: skip
    assert json.loads(out) == expected


def test_key_file_id_is_the_default_verification_method() -> None:
    # The OB 3.0 key file names its VM (https://example.edu/issuers/565049#z6Mk...); the
    # signed vector uses exactly that, so the key file's id wins over did:key.
    base = VECTORS / "openbadges-3.0"
    out = json.loads(_sign("--key", str(base / "keyPair.json"), str(base / "unsigned.json")))
    assert out["proof"]["verificationMethod"] == _load(base / "keyPair.json")["id"]


def test_without_id_the_proof_names_did_key(tmp_path: Path) -> None:
    base = VECTORS / "eddsa-rdfc-2022"
    key = KeyPair.from_multikey(_load(base / "keyPair.json"))
    did = did_key_for(key)
    out = json.loads(_sign("--key", str(base / "keyPair.json"), str(base / "unsigned.json")))
    assert out["proof"]["verificationMethod"] == f"{did}#{key.public_key_multibase}"


def test_verification_method_option_overrides() -> None:
    base = VECTORS / "openbadges-3.0"
    vm = "https://example.edu/issuers/565049#key-2"
    out = json.loads(
        _sign("--key", str(base / "keyPair.json"), "--verification-method", vm,
              str(base / "unsigned.json"))
    )  # fmt: skip
    assert out["proof"]["verificationMethod"] == vm


def test_signed_with_issuer_did_key_verifies_with_binding(tmp_path: Path) -> None:
    key = KeyPair.generate("P-256")
    did = did_key_for(key)
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key.to_multikey(include_secret=True)))
    credential = _load(VECTORS / "eddsa-rdfc-2022" / "unsigned.json")
    credential["issuer"] = did
    doc = tmp_path / "vc.json"
    doc.write_text(json.dumps(credential))
    out = json.loads(_sign("--key", str(key_file), "--suite", "ecdsa-rdfc-2019", str(doc)))
    results = verify_proofs(out, Resolver())
    assert len(results) == 1


def test_vc_jwt_output_verifies(tmp_path: Path) -> None:
    base = VECTORS / "eddsa-rdfc-2022"
    token = _sign(
        "--key", str(base / "keyPair.json"), "--suite", "vc-jwt", str(base / "unsigned.json")
    )
    payload = verify_vc_jwt(token.strip(), Resolver(), issuer_binding=False)
    assert payload["credentialSubject"] == _load(base / "unsigned.json")["credentialSubject"]


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    base = VECTORS / "eddsa-rdfc-2022"
    result = CliRunner().invoke(cli, ["sign", "--key", str(base / "keyPair.json"), str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith("PARSING_ERROR:")
