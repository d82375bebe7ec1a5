"""Deployment settings: secrets from mounted files, the log format switch, the gunicorn config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contexts.errors import SijilError
from issuer.settings import Settings, read_secret
from webplatform.logs import log_format_from_env, log_level_from_env

ROOT = Path(__file__).resolve().parent.parent
BASE = {
    "SIJIL_BASE_URL": "https://issuer.test.example",
    "SIJIL_SECRET_KEY": "a-production-secret-key-0123456789",
    "SIJIL_ENV": "production",
    "SIJIL_VERIFIER_URL": "https://verify.test.example",
}


def _secret_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_passphrase_comes_from_a_private_file(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "a long mounted passphrase\n", 0o400)
    settings = Settings.from_env(
        {**BASE, "SIJIL_INSTANCE_DIR": str(tmp_path), "SIJIL_KEY_PASSPHRASE_FILE": str(path)}
    )
    assert settings.key_passphrase == "a long mounted passphrase"  # trailing newline dropped
    assert settings.dev_defaults == ()


def test_secret_key_file_form_works_too(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "k" * 40 + "\r\n", 0o440)
    assert read_secret({"SIJIL_SECRET_KEY_FILE": str(path)}, "SIJIL_SECRET_KEY") == "k" * 40


@pytest.mark.parametrize("mode", [0o444, 0o644, 0o604, 0o666])
def test_world_readable_passphrase_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = _secret_file(tmp_path, "a long mounted passphrase", mode)
    with pytest.raises(SijilError) as raised:
        Settings.from_env(
            {**BASE, "SIJIL_INSTANCE_DIR": str(tmp_path), "SIJIL_KEY_PASSPHRASE_FILE": str(path)}
        )
    assert raised.value.code == "INSECURE_SETTINGS"


def test_passphrase_and_its_file_together_are_refused(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "a long mounted passphrase", 0o400)
    env = {"SIJIL_KEY_PASSPHRASE": "another one", "SIJIL_KEY_PASSPHRASE_FILE": str(path)}
    with pytest.raises(SijilError) as raised:
        read_secret(env, "SIJIL_KEY_PASSPHRASE")
    assert raised.value.code == "MALFORMED_VALUE_ERROR"


def test_missing_passphrase_file_is_refused(tmp_path: Path) -> None:
    env = {"SIJIL_KEY_PASSPHRASE_FILE": str(tmp_path / "nope")}
    with pytest.raises(SijilError) as raised:
        read_secret(env, "SIJIL_KEY_PASSPHRASE")
    assert raised.value.code == "MALFORMED_VALUE_ERROR"


def test_log_format_and_level_switches() -> None:
    assert log_format_from_env({}, default="text") == "text"
    assert log_format_from_env({}) == "json"
    assert log_format_from_env({"SIJIL_LOG_FORMAT": " JSON "}, default="text") == "json"
    assert log_level_from_env({"SIJIL_LOG_LEVEL": "debug"}) == "DEBUG"
    with pytest.raises(SijilError) as bad_format:
        log_format_from_env({"SIJIL_LOG_FORMAT": "xml"})
    assert bad_format.value.code == "SETTINGS_ERROR"
    with pytest.raises(SijilError) as bad_level:
        log_level_from_env({"SIJIL_LOG_LEVEL": "loud"})
    assert bad_level.value.code == "SETTINGS_ERROR"


def test_gunicorn_configs_read_the_environment(tmp_path: Path) -> None:
    """Each config file, executed as gunicorn does, gives the settings the docs promise."""
    script = (
        "import json, runpy, sys\n"
        "cfg = runpy.run_path(sys.argv[1])\n"
        "keys = ['bind', 'workers', 'threads', 'timeout', 'preload_app', 'max_requests',\n"
        "        'max_requests_jitter', 'forwarded_allow_ips', 'graceful_timeout',\n"
        "        'control_socket_disable']\n"
        "out = {k: cfg[k] for k in keys}\n"
        "out['hooks'] = [callable(cfg['on_starting']), callable(cfg['child_exit'])]\n"
        "out['access'] = sorted(cfg['logconfig_dict']['loggers'])\n"
        "print(json.dumps(out))\n"
    )
    env = {
        **os.environ,
        "SIJIL_BIND": "10.0.0.5:8000, unix:/run/sijil.sock",
        "SIJIL_WORKERS": "3",
        "SIJIL_MAX_REQUESTS": "1000",
        "SIJIL_FORWARDED_ALLOW_IPS": "10.0.0.2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    env.pop("SIJIL_THREADS", None)
    results: dict[str, dict[str, Any]] = {}
    for name in ("issuer", "verifier"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(ROOT / "deploy" / "gunicorn" / f"{name}.py")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        results[name] = json.loads(done.stdout)
    issuer, verifier = results["issuer"], results["verifier"]
    assert issuer["bind"] == ["10.0.0.5:8000", "unix:/run/sijil.sock"]
    assert issuer["workers"] == verifier["workers"] == 3
    # Measured (bench/RESULTS.md): threads add no throughput to CPU-bound verification, but
    # keep a short request from waiting behind a long MMS or a did:web fetch.
    assert verifier["threads"] == 4
    assert issuer["preload_app"] is False  # the issuer opens the database: never before fork
    assert verifier["preload_app"] is True
    assert issuer["timeout"] > verifier["timeout"]
    assert (issuer["max_requests"], issuer["max_requests_jitter"]) == (1000, 100)
    assert issuer["forwarded_allow_ips"] == "10.0.0.2"
    assert issuer["hooks"] == [True, True]
    assert issuer["control_socket_disable"] is True  # two instances on a host must not share one
    assert issuer["access"] == ["gunicorn.access", "gunicorn.error"]
    assert (tmp_path / "metrics").is_dir()
