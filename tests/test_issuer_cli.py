"""``sijil-issuer`` commands end to end on SQLite: init, demo, import-progress, tokens, awards,
keys rotate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import cli
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.issuance import own_issuers, pin_issuer_documents
from issuer.services.status import OwnStatusListFetcher
from issuer.settings import Settings
from verifier.report import verify_credential


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
        "SIJIL_BASE_URL": "https://issuer.cli.example",
        "SIJIL_KEY_PASSPHRASE": "cli-test-passphrase",
        "SIJIL_SECRET_KEY": "cli-test-secret-key",
        "SIJIL_ENV": "development",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_init_then_demo_twice(env: dict[str, str]) -> None:
    out = _run(env, "init").stdout
    assert "did:web:issuer.cli.example" in out
    first = _run(env, "demo").stdout
    assert "newly issued: 12" in first
    second = _run(env, "demo").stdout
    assert "newly issued: 0" in second
    listed = _run(env, "awards", "list").stdout.splitlines()
    assert len(listed) == 12
    assert sum(1 for line in listed if "\tMMS\t" in line) == 1


def test_import_progress_reports_bad_rows_and_summary(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "demo")
    csv_file = tmp_path / "lms.csv"
    csv_file.write_text(
        "learner_id,micro_credential,event,item,score\n"
        "S1004,PYD103,material_completed,PYD103-M2,\n"
        "S1004,PYD103,assessment_result,PYD103-QZ,not-a-number\n",
        encoding="utf-8",
    )
    result = _run(env, "import-progress", str(csv_file), code=1)
    assert "line 3: MALFORMED_VALUE_ERROR" in result.stderr
    assert "2 rows: 1 recorded" in result.stdout
    assert "issued 1 COC" in result.stdout
    again = _run(env, "import-progress", str(csv_file), code=1)
    assert "0 recorded, 1 already known" in again.stdout
    assert "issued nothing" in again.stdout


def test_tokens_create_prints_a_token(env: dict[str, str]) -> None:
    _run(env, "init")
    token = _run(env, "tokens", "create", "--scope", "read", "--label", "dash").stdout.strip()
    assert token.startswith("sijil_")
    assert len(token) > 40
    listed = _run(env, "tokens", "list").stdout
    assert token not in listed
    assert token[6:14] in listed


def test_awards_show_and_export_write_verbatim_credentials(
    env: dict[str, str], tmp_path: Path
) -> None:
    _run(env, "demo")
    first_id = _run(env, "awards", "list").stdout.split("\t", 1)[0]
    shown = _run(env, "awards", "show", first_id).stdout.strip()
    out_dir = tmp_path / "export"
    assert "exported 12" in _run(env, "awards", "export", "--dir", str(out_dir)).stdout
    files = sorted(out_dir.glob("*.json"))
    assert len(files) == 12
    matching = [f for f in files if first_id in f.name]
    assert matching[0].read_text(encoding="utf-8") == shown
    _run(env, "awards", "export", "--dir", str(out_dir), "--formats", "gif", code=1)


def test_keys_rotate_then_old_and_new_verify(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "demo")
    out = _run(env, "keys", "rotate").stdout
    assert "staged" in out
    assert "still signing with" in out
    assert "signing with" in _run(env, "keys", "activate").stdout
    csv_file = tmp_path / "new.csv"
    csv_file.write_text(
        "learner_id,learner_email,learner_name,micro_credential,event,item\n"
        "S7001,wong@x.my,Wong Ah Kow 黄亚九,ESG201,material_completed,ESG201-M1\n"
        "S7001,wong@x.my,Wong Ah Kow 黄亚九,ESG201,material_completed,ESG201-M2\n",
        encoding="utf-8",
    )
    _run(env, "import-progress", str(csv_file))
    rt = open_runtime(Settings.from_env(env))
    try:
        pin_issuer_documents(rt)
        methods = set()
        with rt.reading() as session:
            own_lists = OwnStatusListFetcher(rt, session)
            for award in list_awards(rt, limit=None):
                credential = award.credential()
                methods.add(credential["proof"]["verificationMethod"])
                report = verify_credential(
                    credential, resolver=rt.resolver, fetcher=own_lists, trust=own_issuers(rt)
                )
                assert report.verified, json.dumps(report.to_dict()["errors"])
        assert len(methods) == 2
    finally:
        rt.close()


def test_rotate_unknown_issuer_prints_code(env: dict[str, str]) -> None:
    _run(env, "init")
    result = _run(env, "keys", "rotate", "--issuer", "nope", code=1)
    assert result.stderr.startswith("NOT_FOUND:")
