"""``sijil-issuer awards wallet-offer``: the offer staff send to a learner's wallet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
        "SIJIL_BASE_URL": "https://issuer.cli.example",
        "SIJIL_KEY_PASSPHRASE": "cli-test-passphrase",
        "SIJIL_SECRET_KEY": "cli-test-secret-key",
        "SIJIL_VERIFIER_URL": "https://verify.cli.example",
        "SIJIL_ENV": "development",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _first_award(env: dict[str, str], award_type: str) -> tuple[str, str]:
    for line in _run(env, "awards", "list").stdout.splitlines():
        award_id, kind, *_ = line.split("\t")
        if kind == award_type:
            credential = json.loads(_run(env, "awards", "show", award_id).stdout)
            return award_id, credential["id"]
    raise AssertionError(f"no {award_type}")


def test_wallet_offer_json_names_interaction_url_offer_and_tx_code(env: dict[str, str]) -> None:
    _run(env, "demo")
    award_id, credential_id = _first_award(env, "COA")
    for wanted in (award_id, credential_id):  # the award id or the credential id
        offer = json.loads(_run(env, "awards", "wallet-offer", wanted, "--json").stdout)
        assert re.fullmatch(
            r"https://issuer\.cli\.example/interactions/[A-Za-z0-9_-]+\?iuv=1",
            offer["interactionUrl"],
        )
        assert offer["credentialOffer"].startswith(
            "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.cli.example"
        )
        assert re.fullmatch(r"[0-9]{6}", offer["txCode"])
        assert offer["bindHolder"] is False


def test_wallet_offer_bind_holder_without_tx_code(env: dict[str, str]) -> None:
    _run(env, "demo")
    award_id, _ = _first_award(env, "MMS")
    offer = json.loads(
        _run(
            env, "awards", "wallet-offer", award_id, "--bind-holder", "--no-tx-code", "--json"
        ).stdout
    )
    assert offer["txCode"] is None
    assert offer["bindHolder"] is True
    assert "request.html?" in offer["lcwLegacyRequest"]


def test_wallet_offer_of_an_unknown_award_prints_the_code(env: dict[str, str]) -> None:
    _run(env, "demo")
    result = _run(env, "awards", "wallet-offer", "no-such-award", code=1)
    assert result.stderr.startswith("NOT_FOUND: ")


def test_wallet_offer_of_a_revoked_award_is_refused(env: dict[str, str]) -> None:
    _run(env, "demo")
    award_id, _ = _first_award(env, "COC")
    _run(env, "awards", "revoke", award_id, "--reason", "issued in error")
    result = _run(env, "awards", "wallet-offer", award_id, code=1)
    assert result.stderr.startswith("AWARD_NOT_DELIVERABLE: ")
