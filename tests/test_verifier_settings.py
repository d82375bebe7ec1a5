"""Verifier settings from SIJIL_* variables; the loopback switch is loud."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from verifier.settings import SettingsError, VerifierSettings


def test_defaults_are_safe() -> None:
    settings = VerifierSettings.from_env({})
    assert settings.allow_local_fetch is False
    assert settings.trust_file is None
    assert settings.build_verifier().trust is None


def test_values_from_env(tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"issuers": [{"id": "did:web:u.example", "name": "U"}]}))
    settings = VerifierSettings.from_env(
        {
            "SIJIL_FETCH_TIMEOUT": "2.5",
            "SIJIL_KEY_CACHE_TTL": "60",
            "SIJIL_STATUS_CACHE_TTL": "30",
            "SIJIL_TRUST_FILE": str(trust),
        }
    )
    assert settings.fetch_timeout == 2.5
    assert settings.key_cache_ttl == 60
    verifier = settings.build_verifier()
    assert verifier.trust is not None
    assert verifier.trust.is_trusted("did:web:u.example")


@pytest.mark.parametrize(
    "env",
    [
        {"SIJIL_ALLOW_LOCAL_FETCH": "maybe"},
        {"SIJIL_FETCH_TIMEOUT": "soon"},
        {"SIJIL_KEY_CACHE_TTL": "-1"},
    ],
)
def test_bad_values_are_settings_errors(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        VerifierSettings.from_env(env)
    assert caught.value.code == "SETTINGS_ERROR"


def test_allow_local_fetch_is_logged_loudly(caplog: pytest.LogCaptureFixture) -> None:
    settings = VerifierSettings.from_env({"SIJIL_ALLOW_LOCAL_FETCH": "1"})
    assert settings.allow_local_fetch
    with caplog.at_level(logging.WARNING, logger="verifier.settings"):
        settings.build_fetcher()
    assert any(
        r.levelno == logging.WARNING and "SIJIL_ALLOW_LOCAL_FETCH" in r.getMessage()
        for r in caplog.records
    )


def test_quiet_when_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="verifier.settings"):
        VerifierSettings.from_env({}).build_fetcher()
    assert not caplog.records
