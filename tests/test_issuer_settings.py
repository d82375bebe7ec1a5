"""Issuer settings fail closed, the instance remembers its base URL, claim links expire.

- Outside ``SIJIL_ENV=development`` a missing secret key, key passphrase or verifier URL stops the
  issuer at start (``INSECURE_SETTINGS``): ``Settings.from_env``, ``sijil-issuer serve`` and the
  gunicorn module ``issuer.web.wsgi``.
- ``sijil-issuer init`` stores the base URL; later commands without ``SIJIL_BASE_URL`` use it, a
  different one is refused (``BASE_URL_MISMATCH``), and so is a base URL the issuer's did:web DID
  does not live under.
- A claim link forged with the public development key, or carrying a 10-year expiry, opens
  nothing; secret-key fallbacks keep links working across a key rotation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import DEV_ENV
from issuer_web_support import WebIssuer, web_issuer
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from contexts.errors import SijilError
from issuer.cli import cli
from issuer.delivery.claims import (
    MAX_CLAIM_LINK_LIFETIME,
    ClaimLinkExpiredError,
    InvalidClaimLinkError,
    make_claim_token,
    read_claim_token,
)
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.instance import BaseUrlMismatchError
from issuer.services.issuers import ensure_default_issuer
from issuer.settings import DEV_SECRET_KEY, InsecureSettingsError, Settings

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 12, 1, tzinfo=UTC)
SECRETS = {
    "SIJIL_KEY_PASSPHRASE": "a-production-passphrase",
    "SIJIL_SECRET_KEY": "a-production-secret-key-0123456789",
    "SIJIL_VERIFIER_URL": "https://verify.example.edu.my",
}


def _without_sijil() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}


# --- fail closed ------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_missing_secret_without_sijil_env_stops_the_issuer(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(InsecureSettingsError) as raised:
        Settings.from_env({"SIJIL_BASE_URL": "https://credentials.example.edu.my", **env})
    assert raised.value.code == "INSECURE_SETTINGS"
    assert missing in raised.value.detail


def test_every_secret_present_starts_in_production() -> None:
    settings = Settings.from_env(
        {"SIJIL_BASE_URL": "https://credentials.example.edu.my", **SECRETS}
    )
    assert settings.is_production
    assert settings.verifier_url == "https://verify.example.edu.my"
    assert settings.dev_defaults == ()


def test_development_must_be_said_to_get_dev_defaults() -> None:
    settings = Settings.from_env(DEV_ENV)
    assert not settings.is_production
    assert settings.secret_key == DEV_SECRET_KEY
    assert "SIJIL_VERIFIER_URL" in settings.dev_defaults


def test_signing_workers_default_to_one_per_core_and_can_be_set() -> None:
    cores = len(os.sched_getaffinity(0))
    assert Settings.from_env(DEV_ENV).issue_workers == (cores if cores > 1 else 0)
    assert Settings.from_env({**DEV_ENV, "SIJIL_ISSUE_WORKERS": "0"}).issue_workers == 0
    assert Settings.from_env({**DEV_ENV, "SIJIL_ISSUE_WORKERS": "3"}).issue_workers == 3
    with pytest.raises(SijilError) as caught:
        Settings.from_env({**DEV_ENV, "SIJIL_ISSUE_WORKERS": "-1"})
    assert "SIJIL_ISSUE_WORKERS" in caught.value.detail


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIJIL_VERIFIER_URL", "http://127.0.0.1:5001"),
        ("SIJIL_SECRET_KEY", DEV_SECRET_KEY),
        ("SIJIL_SECRET_KEY_FALLBACKS", "short"),
    ],
    ids=["http_verifier_url", "dev_secret_key", "weak_fallback_key"],
)
def test_production_refuses_unsafe_values(name: str, value: str) -> None:
    with pytest.raises(InsecureSettingsError):
        Settings.from_env({**SECRETS, name: value})


def test_secret_key_file_form_satisfies_the_requirement(tmp_path: Path) -> None:
    secret = tmp_path / "secret-key"
    secret.write_text("a-mounted-secret-key-0123456789\n", encoding="utf-8")
    secret.chmod(0o400)
    env = {k: v for k, v in SECRETS.items() if k != "SIJIL_SECRET_KEY"}
    settings = Settings.from_env({**env, "SIJIL_SECRET_KEY_FILE": str(secret)})
    assert settings.secret_key == "a-mounted-secret-key-0123456789"


def test_cli_serve_without_secrets_exits_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIJIL_ENV")
    result = CliRunner().invoke(cli, ["serve", "--port", "0"], env=dict.fromkeys(SECRETS))
    assert result.exit_code == 1
    assert "INSECURE_SETTINGS" in result.output
    assert "SIJIL_SECRET_KEY" in result.output


def test_gunicorn_module_without_secrets_refuses_to_load(tmp_path: Path) -> None:
    env = {**_without_sijil(), "SIJIL_INSTANCE_DIR": str(tmp_path / "instance")}
    proc = subprocess.run(
        [sys.executable, "-c", "import issuer.web.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "INSECURE_SETTINGS" in proc.stderr
    assert not (tmp_path / "instance").exists()  # refused before touching the instance


# --- the instance remembers its base URL ------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        **DEV_ENV,
        "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
        "SIJIL_KEY_PASSPHRASE": "cli-test-passphrase",
        "SIJIL_SECRET_KEY": "cli-test-secret-key",
        "SIJIL_NOTIFY_LEARNERS": "0",
    }


def _run(env: dict[str, str | None], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _progress_csv(path: Path) -> Path:
    who = "S7001,ESG201"
    contact = "s7001@student.example.edu.my,Learner 7001"
    rows = [
        "learner_id,micro_credential,event,item,score,learner_email,learner_name",
        f"{who},material_completed,ESG201-M1,,{contact}",
        f"{who},material_completed,ESG201-M2,,{contact}",
        f"{who},assessment_result,ESG201-QZ,80,{contact}",
        f"{who},assessment_result,ESG201-PJ,75,{contact}",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _urls(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value


def test_import_progress_on_an_https_instance_issues_https_urls(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    base = "https://credentials.example.edu.my"
    init = _run({**cli_env, "SIJIL_BASE_URL": base}, "init")
    assert f"base URL: {base}" in init.output
    env: dict[str, str | None] = {**cli_env, "SIJIL_BASE_URL": None}  # unset from now on
    _run(env, "demo")
    _run(env, "import-progress", str(_progress_csv(tmp_path / "progress.csv")))
    settings = Settings.from_env(cli_env)
    rt = open_runtime(settings)
    try:
        assert rt.settings.base_url == base
        awards = list_awards(rt, learner="S7001", limit=None)
        assert {a.award_type for a in awards} == {"COC", "COA"}
        for award in awards:
            credential = json.loads(award.credential_json)
            assert award.credential_id.startswith(f"{base}/")
            ours = [u for u in _urls(credential) if "example.edu.my" in u]
            assert ours, credential
            assert [u for u in ours if u != base and not u.startswith(f"{base}/")] == []
            assert credential["issuer"]["id"] == "did:web:credentials.example.edu.my"
    finally:
        rt.close()


def test_a_different_base_url_is_refused_with_the_next_step(cli_env: dict[str, str]) -> None:
    _run({**cli_env, "SIJIL_BASE_URL": "https://credentials.example.edu.my"}, "init")
    result = _run({**cli_env, "SIJIL_BASE_URL": "http://localhost:5000"}, "awards", "list", code=1)
    assert "BASE_URL_MISMATCH" in result.output
    assert "https://credentials.example.edu.my" in result.output


def test_a_base_url_the_issuer_did_does_not_live_under_is_refused(instance: Path) -> None:
    env = {
        **DEV_ENV,
        "SIJIL_INSTANCE_DIR": str(instance),
        "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
    }
    rt = open_runtime(Settings.from_env({**env, "SIJIL_BASE_URL": "https://a.example.edu.my"}))
    try:
        ensure_default_issuer(rt, actor="test")  # no init: nothing stored, the DID remembers
    finally:
        rt.close()
    with pytest.raises(BaseUrlMismatchError) as raised:
        open_runtime(Settings.from_env({**env, "SIJIL_BASE_URL": "https://b.example.edu.my"}))
    assert "https://a.example.edu.my" in raised.value.detail


def test_production_without_any_base_url_asks_for_init(instance: Path) -> None:
    settings = Settings.from_env({**SECRETS, "SIJIL_INSTANCE_DIR": str(instance)})
    with pytest.raises(SijilError) as raised:
        open_runtime(settings)
    assert raised.value.code == "SETTINGS_ERROR"
    assert "sijil-issuer init" in raised.value.detail


# --- claim links --------------------------------------------------------------------------------


def _forge(secret_key: str, payload: dict[str, Any], signed_at: datetime) -> str:
    """A token in the claim-link format with any payload and signature time."""

    class _Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(signed_at.timestamp())

    serializer = URLSafeTimedSerializer(secret_key, salt="sijil.learner-claim.v2", signer=_Then)
    token = serializer.dumps(payload)
    return token if isinstance(token, str) else token.decode("ascii")


@pytest.fixture
def web(instance: Path) -> Iterator[WebIssuer]:
    with web_issuer(instance, demo=True) as issuer:
        yield issuer


def test_forged_ten_year_link_with_the_dev_key_opens_nothing(web: WebIssuer) -> None:
    now = web.rt.now()
    ten_years = int((now + timedelta(days=3650)).timestamp())
    token = _forge(DEV_SECRET_KEY, {"l": "S1001", "e": ten_years}, now)
    response = web.client().get(f"/claim/{token}")
    assert response.status_code == 404
    assert b"S1001" not in response.data


def test_ten_year_expiry_stops_at_the_maximum_age(web: WebIssuer) -> None:
    now = web.rt.now()
    ten_years = int((now + timedelta(days=3650)).timestamp())
    key = web.rt.settings.secret_key
    old = _forge(key, {"l": "S1001", "e": ten_years}, now - timedelta(days=91))
    assert web.client().get(f"/claim/{old}").status_code == 410
    with pytest.raises(ClaimLinkExpiredError):
        read_claim_token(key, old, at=now)
    fresh = _forge(key, {"l": "S1001", "e": ten_years}, now - timedelta(days=1))
    assert read_claim_token(key, fresh, at=now).expires_at <= now + MAX_CLAIM_LINK_LIFETIME


def test_link_signed_in_the_future_is_invalid() -> None:
    token = make_claim_token("k" * 32, "S1001", at=AT + timedelta(days=1))
    with pytest.raises(InvalidClaimLinkError):
        read_claim_token("k" * 32, token, at=AT)


def test_fallback_key_reads_links_made_before_a_rotation() -> None:
    old, new = "old-secret-key-0123456789", "new-secret-key-0123456789"
    token = make_claim_token(old, "S1001", at=AT)
    with pytest.raises(InvalidClaimLinkError):
        read_claim_token(new, token, at=AT + timedelta(days=1))
    claim = read_claim_token(new, token, at=AT + timedelta(days=1), fallbacks=(old,))
    assert claim.learner == "S1001"
    with pytest.raises(ClaimLinkExpiredError):
        read_claim_token(new, token, at=AT + timedelta(days=31), fallbacks=(old,))


@pytest.mark.parametrize("days", [0, 91, 3650])
def test_lifetime_outside_the_bounds_is_refused(days: int) -> None:
    with pytest.raises(SijilError) as raised:
        make_claim_token("k" * 32, "S1001", at=AT, lifetime=timedelta(days=days))
    assert raised.value.code == "MALFORMED_VALUE_ERROR"
