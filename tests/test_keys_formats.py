"""The credential-format registry: one list, each entry signs and verifies what it says."""

from __future__ import annotations

from typing import Any

import pytest

from keys.dataintegrity import SUITES
from keys.dataintegrity.errors import MalformedProofError
from keys.didkey import did_key_for
from keys.formats import (
    FORMAT_NAMES,
    FORMATS,
    VC_JWT,
    CredentialFormat,
    UnsupportedFormatError,
    format_of,
    formats_for_key,
    get_format,
    sign_credential,
    verify_secured,
)
from keys.keypair import KeyPair
from keys.resolve import Resolver


def _vc(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:subject"},
    }


def _cases() -> list[tuple[str, str]]:
    return [(fmt.name, key_type) for fmt in FORMATS.values() for key_type in fmt.key_types]


def test_registry_lists_every_cryptosuite_then_vc_jwt() -> None:
    assert (*SUITES, VC_JWT) == FORMAT_NAMES
    assert all(isinstance(fmt, CredentialFormat) for fmt in FORMATS.values())
    assert get_format(VC_JWT).media_type == "application/vc+jwt"
    assert {get_format(s).media_type for s in SUITES} == {"application/vc"}


def test_formats_for_rsa_key_is_only_vc_jwt() -> None:
    assert [f.name for f in formats_for_key("RSA")] == [VC_JWT]
    assert VC_JWT in [f.name for f in formats_for_key("Ed25519")]


@pytest.mark.parametrize(("name", "key_type"), _cases(), ids=[f"{n}-{k}" for n, k in _cases()])
def test_each_format_signs_and_verifies(name: str, key_type: str) -> None:
    key = KeyPair.generate(key_type)  # type: ignore[arg-type]
    secured = sign_credential(_vc(did_key_for(key)), key, name)
    assert format_of(secured).name == name
    verified = verify_secured(secured, Resolver())
    assert verified.format == name
    assert verified.credential["issuer"] == did_key_for(key)


def test_unknown_format_name() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        get_format("rsa-2048")
    assert info.value.code == "UNSUPPORTED_FORMAT"


def test_key_the_format_does_not_sign_with() -> None:
    key = KeyPair.generate("P-256")
    with pytest.raises(UnsupportedFormatError):
        sign_credential(_vc(did_key_for(key)), key, "eddsa-rdfc-2022")


def test_format_of_a_document_without_proof() -> None:
    with pytest.raises(MalformedProofError):
        format_of(_vc("did:example:issuer"))


def test_verifier_cli_lists_the_registry() -> None:
    import json

    from click.testing import CliRunner

    from verifier.cli import cli

    result = CliRunner().invoke(cli, ["formats", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [row["name"] for row in listed] == list(FORMAT_NAMES)
    assert listed[-1]["keyTypes"] == ["Ed25519", "P-256", "P-384", "RSA"]
