"""The forged COA: a genuine COA copied, re-issued by an attacker's did:key under the
university's name, status dropped, signed with ``sijil-issuer sign``.

Its signature is valid (the attacker signed it), so only trust decides. Without a trust list
it must read "signature valid, issuer not recognised"; with the university's trust list it is
"not on your list"; never "Valid" / "genuine" / "Sah" on the page, never exit 0 from
``sijil-verify``, never 200 from the VC-API, and never credits in a credit transfer.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from verifier_fixtures import Learner, build_coa, key_from_seed, sign
from verifier_trust import ISSUER_NAME, trust_file, trust_for

from issuer.cli import cli as issuer_cli
from keys.didkey import did_key_for
from keys.keypair import KeyPair
from verifier.cli import cli as verifier_cli
from verifier.links import pack_credential
from verifier.settings import VerifierSettings
from verifier.trust import TrustList
from verifier.web import create_app

UNIVERSITY = key_from_seed(81)
ATTACKER = KeyPair.generate("Ed25519")
LEARNER = Learner("Siti Nurhaliza", "siti@example.com", "salt-siti")
NOW = "2026-07-01T00:00:00Z"
POLICY = {
    "programme": {"id": "BSC-DS", "name": "BSc Data Science"},
    "courseMapping": [{"achievement": "DS101", "course": "DS1013", "credits": 3}],
    "acceptedIssuers": [],
}


@pytest.fixture(scope="module")
def genuine() -> dict[str, Any]:
    doc = build_coa(UNIVERSITY, LEARNER, "DS101", "Data Analytics Fundamentals", serial=1)
    doc["credentialStatus"] = {
        "id": "https://registry.example.edu.my/status/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://registry.example.edu.my/status/1",
    }
    return sign(doc, UNIVERSITY)


@pytest.fixture(scope="module")
def forged(genuine: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The attack, step by step, through the issuer's own ``sign`` command."""
    work = tmp_path_factory.mktemp("attacker")
    doc = copy.deepcopy(genuine)
    del doc["proof"]
    del doc["credentialStatus"]
    doc["issuer"]["id"] = did_key_for(ATTACKER)  # the university's name stays
    (work / "unsigned.json").write_text(json.dumps(doc), encoding="utf-8")
    key = ATTACKER.to_multikey(include_secret=True)
    (work / "KEY.json").write_text(json.dumps(key), encoding="utf-8")
    result = CliRunner().invoke(
        issuer_cli,
        ["sign", "--key", str(work / "KEY.json"), str(work / "unsigned.json")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    signed: dict[str, Any] = json.loads(result.stdout)
    assert signed["issuer"]["name"] == ISSUER_NAME
    return signed


def _app(trust: TrustList | None) -> Flask:
    settings = VerifierSettings()
    return create_app(settings, verifier=settings.build_verifier(trust=trust))


def _write(tmp_path: Path, doc: Any, name: str) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("with_trust_list", [False, True], ids=["no-trust-list", "trust-list"])
def test_sijil_verify_never_exits_0_for_the_forgery(
    forged: dict[str, Any], tmp_path: Path, with_trust_list: bool
) -> None:
    args = ["--json", "--now", NOW, "--no-status"]
    if with_trust_list:
        args += ["--trust", str(trust_file(tmp_path, UNIVERSITY))]
    result = CliRunner().invoke(
        verifier_cli, [*args, _write(tmp_path, forged, "forged.json")], env={"SIJIL_TRUST_FILE": ""}
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "unknown_issuer"
    assert report["verified"] is False
    assert report["checks"]["proof"]["status"] == "passed"  # the attacker's signature is fine
    expected = "ISSUER_NOT_TRUSTED" if with_trust_list else "ISSUER_TRUST_NOT_CONFIGURED"
    assert report["checks"]["issuer_trust"]["codes"] == [expected]
    assert report["credential"]["issuer_id"] == did_key_for(ATTACKER)
    assert report["credential"]["issuer_name"] is None
    text = CliRunner().invoke(
        verifier_cli,
        [*args[1:], _write(tmp_path, forged, "forged2.json")],
        env={"SIJIL_TRUST_FILE": ""},
    )
    first = text.output.splitlines()[0]
    assert first.startswith("UNKNOWN_ISSUER: ")
    assert "genuine" not in text.output.lower()
    assert did_key_for(ATTACKER) in text.output


def test_the_genuine_coa_verifies_with_the_trust_list(
    genuine: dict[str, Any], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        verifier_cli,
        [
            "--now",
            NOW,
            "--no-status",
            "--trust",
            str(trust_file(tmp_path, UNIVERSITY)),
            _write(tmp_path, genuine, "genuine.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VALID: ")


@pytest.mark.parametrize("trusted", [False, True], ids=["no-trust-list", "trust-list"])
def test_vc_api_answers_422_for_the_forgery(forged: dict[str, Any], trusted: bool) -> None:
    app = _app(trust_for(UNIVERSITY) if trusted else None)
    response = app.test_client().post(
        "/credentials/verify",
        json={"verifiableCredential": forged, "options": {"at": NOW}},
    )
    assert response.status_code == 422
    body = response.get_json(force=True)
    assert body["verdict"] == "unknown_issuer"
    assert body["verified"] is False
    assert body["credential"]["issuer_id"] == did_key_for(ATTACKER)


@pytest.mark.parametrize("trusted", [False, True], ids=["no-trust-list", "trust-list"])
def test_page_never_says_valid_genuine_or_sah(forged: dict[str, Any], trusted: bool) -> None:
    app = _app(trust_for(UNIVERSITY) if trusted else None)
    response = app.test_client().get("/verify?c=" + pack_credential(forged))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-verdict="unknown_issuer"' in html
    assert 'data-verdict="valid"' not in html
    assert ">Valid<" not in html
    assert ">Sah<" not in html
    assert "genuine" not in html.lower()
    assert "tone-good" not in html
    # The issuer line is the verified identity (the attacker's DID), not the borrowed name.
    issuer = re.search(r"<dt>Issuer \(not recognised\).*?</dt><dd[^>]*>(.*?)</dd>", html, re.S)
    assert issuer is not None, html
    assert did_key_for(ATTACKER) in issuer.group(1)
    assert ISSUER_NAME not in issuer.group(1)
    assert "Name the credential claims (not verified)" in html


def test_credit_transfer_refuses_the_forgery_over_http(
    genuine: dict[str, Any], forged: dict[str, Any]
) -> None:
    app = _app(trust_for(UNIVERSITY))
    response = app.test_client().post(
        "/credit-transfer/evaluate",
        json={"credentials": [forged], "policy": POLICY, "options": {"at": NOW}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    evaluation = response.get_json()
    assert evaluation["transferred"] == 0
    assert [d["code"] for d in evaluation["decisions"]] == ["ISSUER_NOT_TRUSTED"]
    untrusted = (
        _app(None)
        .test_client()
        .post(
            "/credit-transfer/evaluate",
            json={"credentials": [genuine], "policy": POLICY, "options": {"at": NOW}},
        )
    )
    assert untrusted.get_json()["transferred"] == 0  # no trust list: nothing counts


def test_credit_transfer_cli_refuses_the_forgery(forged: dict[str, Any], tmp_path: Path) -> None:
    policy = _write(tmp_path, POLICY, "policy.json")
    result = CliRunner().invoke(
        verifier_cli,
        [
            "credit-transfer",
            "--json",
            "--policy",
            policy,
            "--now",
            NOW,
            "--trust",
            str(trust_file(tmp_path, UNIVERSITY)),
            _write(tmp_path, forged, "forged.json"),
        ],
    )
    out = json.loads(result.output)
    assert out["transferred"] == 0
    assert [d["code"] for d in out["decisions"]] == ["ISSUER_NOT_TRUSTED"]
