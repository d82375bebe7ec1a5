"""``sijil-verify``: exit codes, the spec vectors, and running without the issuer.

Most tests drive the real Click command in-process (:class:`click.testing.CliRunner`); the
isolation tests run it in a subprocess whose import system refuses ``issuer`` and
``sqlalchemy`` and whose sockets refuse to connect, to prove the verifier deploys alone and
never fetches a context.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _https import LocalServer, Route
from click.testing import CliRunner
from shared_dir import VECTORS
from verifier_fixtures import (
    Learner,
    build_coa,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
)
from verifier_trust import trust_file

from verifier.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SIGNED_VECTORS = sorted(
    p
    for p in VECTORS.glob("**/signed*.json")
    if not p.parent.name.endswith("-legacy") and "openbadges-3.0" not in p.parts
)
OB_VECTOR = VECTORS / "openbadges-3.0" / "signed.json"
OB_CONTROLLER = VECTORS / "openbadges-3.0" / "controller-document.generated.json"
ISSUER = key_from_seed(31)
LEARNER = Learner("Arjun a/l Raman", "arjun@example.com", "salt-arjun")


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _write(tmp_path: Path, doc: Any, name: str = "credential.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return str(path)


def _change_one_character(doc: dict[str, Any]) -> dict[str, Any]:
    """Change the last character of the first string value inside credentialSubject."""
    out = copy.deepcopy(doc)
    stack: list[Any] = [out["credentialSubject"]]
    while stack:
        node = stack.pop(0)
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in items:
            if isinstance(value, str) and key not in ("id", "type") and value:
                last = value[-1]
                node[key] = value[:-1] + ("X" if last != "X" else "Y")
                return out
            if isinstance(value, dict | list):
                stack.append(value)
    raise AssertionError("no string in credentialSubject")


def test_vectors_found() -> None:
    assert len(SIGNED_VECTORS) >= 13


@pytest.mark.parametrize("vector", SIGNED_VECTORS, ids=lambda p: str(p.relative_to(VECTORS)))
def test_every_signed_vector_verifies_without_issuer_binding(vector: Path, tmp_path: Path) -> None:
    # The signature verifies; with binding off nothing ties the signer to the named issuer,
    # so even a trust list naming that issuer cannot make it "valid".
    trust = str(trust_file(tmp_path, json.loads(vector.read_text())))
    for extra in ((), ("--trust", trust)):
        result = _run("--json", "--no-issuer-binding", *extra, str(vector))
        assert result.exit_code == 1, result.output
        report = json.loads(result.output)
        assert report["checks"]["proof"]["status"] == "passed", report["errors"]
        assert report["verdict"] == "unknown_issuer"
    text = _run("--no-issuer-binding", str(vector))
    assert text.output.startswith("UNKNOWN_ISSUER")


@pytest.mark.parametrize("vector", SIGNED_VECTORS, ids=lambda p: str(p.relative_to(VECTORS)))
def test_one_changed_character_in_subject_fails(vector: Path, tmp_path: Path) -> None:
    doc = _change_one_character(json.loads(vector.read_text()))
    result = _run("--no-issuer-binding", "--json", _write(tmp_path, doc))
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["verified"] is False
    assert report["checks"]["proof"]["status"] == "failed"


def test_openbadges_vector_with_its_pinned_controller_document(tmp_path: Path) -> None:
    trust = str(trust_file(tmp_path, json.loads(OB_VECTOR.read_text())))
    pin = ("--trust", trust, "--controller-document", str(OB_CONTROLLER))
    result = _run("--json", "--no-issuer-binding", *pin, str(OB_VECTOR))
    assert json.loads(result.output)["checks"]["proof"]["status"] == "passed", result.output
    bound = _run(*pin, str(OB_VECTOR))
    assert bound.exit_code == 0, bound.output  # the vector's key is its issuer's


def test_vector_needs_no_issuer_binding_flag_because_its_signer_is_not_its_issuer() -> None:
    result = _run(str(VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json"))
    assert result.exit_code == 1
    assert "ISSUER_BINDING_ERROR: " in result.output


def test_did_key_issuer_verifies_with_plain_sijil_verify(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics for Data Science", serial=1)
    result = _run("--trust", str(trust_file(tmp_path, ISSUER)), _write(tmp_path, doc))
    assert result.exit_code == 0, result.output
    assert "issuer_binding: passed" in result.output


def test_unknown_context_exits_1_with_its_code(tmp_path: Path) -> None:
    doc = json.loads((VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_text())
    doc["@context"].append("https://example.org/contexts/not-pinned/v1")
    result = _run("--no-issuer-binding", _write(tmp_path, doc))
    assert result.exit_code == 1
    assert "CONTEXT_NOT_PINNED: " in result.output


def test_undefined_term_exits_1_with_its_code(tmp_path: Path) -> None:
    # The vectors' examples/v2 context maps every term (@vocab); the OB 3.0 context does not.
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics", serial=1)
    doc["credentialSubject"]["achievement"]["favouriteColour"] = "teal"
    result = _run("--json", _write(tmp_path, doc))
    assert result.exit_code == 1
    codes = [e["code"] for e in json.loads(result.output)["errors"]]
    assert "DATA_LOSS_DETECTION_ERROR" in codes


@pytest.mark.parametrize(
    "content",
    ["not json at all", '{"unterminated": ', "[1, 2, 3]", '{"type": ["Thing"]}', ""],
    ids=["text", "truncated-json", "json-array", "not-a-credential", "empty"],
)
def test_unparseable_input_exits_2(tmp_path: Path, content: str) -> None:
    result = _run(_write(tmp_path, content))
    assert result.exit_code == 2
    assert result.stderr.split(":")[0] in {"PARSING_ERROR", "UNSUPPORTED_INPUT"}


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("PARSING_ERROR: ")


def test_malformed_jwt_exits_2(tmp_path: Path) -> None:
    result = _run(_write(tmp_path, "eyJhbGciOiJFZERTQSJ9.bm90LWpzb24.c2ln", "token.jwt"))
    assert result.exit_code == 2


def test_json_report_shape(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics for Data Science", serial=1)
    result = _run("--json", _write(tmp_path, doc))
    report = json.loads(result.output)
    assert set(report) >= {"verified", "verdict", "errors", "warnings", "checks", "credential"}
    assert list(report["checks"]) == [
        "proof",
        "issuer_binding",
        "validity",
        "status",
        "schema",
        "issuer_trust",
        "stacking",
    ]
    for check in report["checks"].values():
        assert set(check) == {"status", "codes", "message"}
        assert check["message"].endswith(".")
    assert report["credential"]["learner_name"] == LEARNER.name
    assert report["credential"]["achievement_name"] == "Statistics for Data Science"
    assert report["credential"]["credits"] == 3


def test_now_before_valid_from_is_not_yet_valid(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics", serial=1)
    result = _run("--json", "--now", "2025-01-01T00:00:00Z", _write(tmp_path, doc))
    assert result.exit_code == 1
    assert json.loads(result.output)["verdict"] == "not_yet_valid"


def test_bad_now_exits_2(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics", serial=1)
    result = _run("--now", "yesterday", _write(tmp_path, doc))
    assert result.exit_code == 2


def test_trust_list_unlisted_issuer(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics", serial=1)
    trust = _write(tmp_path, {"issuers": [{"id": "did:web:other.example", "name": "Other"}]}, "t")
    result = _run("--json", "--trust", trust, _write(tmp_path, doc))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["verdict"] == "unknown_issuer"
    assert report["checks"]["issuer_trust"]["message"].startswith("The signature is valid, but")


def test_stdin_input(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics", serial=1)
    trust = str(trust_file(tmp_path, ISSUER))
    result = CliRunner().invoke(cli, ["--trust", trust, "-"], input=json.dumps(doc))
    assert result.exit_code == 0, result.output


def test_subcommand_help_lists_default_and_subcommands() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    for name in ("verify", "serve", "credit-transfer"):
        assert name in result.output


def test_allow_local_fetch_env_reaches_a_loopback_status_list(tmp_path: Path) -> None:
    with LocalServer(None) as server:
        url = server.url("/status/9")
        server.routes["/status/9"] = Route.json(status_list(ISSUER, url, set_bits=[4]))
        doc = build_coa(ISSUER, LEARNER, "DS201", "Stats", serial=1)
        doc["credentialStatus"] = status_entry(url, 4)
        path = _write(tmp_path, sign(doc, ISSUER))
        blocked = CliRunner().invoke(cli, ["--json", path], env={"SIJIL_ALLOW_LOCAL_FETCH": "0"})
        assert json.loads(blocked.output)["verdict"] == "status_unknown"
        assert server.requests == []
        allowed = CliRunner().invoke(cli, ["--json", path], env={"SIJIL_ALLOW_LOCAL_FETCH": "1"})
        assert allowed.exit_code == 1
        assert json.loads(allowed.output)["verdict"] == "revoked"
        assert server.requests == ["/status/9"]


def test_pinned_status_list_option(tmp_path: Path) -> None:
    url = "https://registry.example.edu.my/status/pinned"
    doc = build_coa(ISSUER, LEARNER, "DS201", "Stats", serial=1)
    doc["credentialStatus"] = status_entry(url, 4)
    pinned = _write(tmp_path, status_list(ISSUER, url), "list.json")
    trust = str(trust_file(tmp_path, ISSUER))
    result = _run(
        "--json", "--trust", trust, "--status-list", pinned, _write(tmp_path, sign(doc, ISSUER))
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["checks"]["status"]["status"] == "passed"


def test_serve_subcommand_is_wired() -> None:
    result = _run("serve", "--help")
    assert result.exit_code == 0
    assert "--host" in result.output
    assert "--port" in result.output


# --- subprocess: deploys alone, never fetches a context -------------------------------------

_BLOCKER = r"""
import importlib.abc, socket, sys

class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("issuer", "sqlalchemy", "alembic", "fpdf", "psycopg"):
            raise ModuleNotFoundError(f"blocked for this test: {name}")
        return None

sys.meta_path.insert(0, _Block())

def _no_connect(self, *args, **kwargs):
    sys.stderr.write("NETWORK-CONNECT-ATTEMPT\n")
    raise OSError("network disabled for this test")

socket.socket.connect = _no_connect
"""


def _isolated(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}
    env["PYTHONPATH"] = str(site)
    code = (
        "import sys, contexts, verifier, keys\n"
        "print('PATHS', contexts.__file__, verifier.__file__, keys.__file__, file=sys.stderr)\n"
        "assert 'issuer' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
        "from verifier.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_cli_runs_without_issuer_or_sqlalchemy(tmp_path: Path) -> None:
    doc = coa_for(ISSUER, LEARNER, "DS201", "Statistics", serial=1)
    trust = str(trust_file(tmp_path, ISSUER))
    proc = _isolated(tmp_path, "--json", "--trust", trust, _write(tmp_path, doc))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verified"] is True
    paths = next(line for line in proc.stderr.splitlines() if line.startswith("PATHS"))
    for found in paths.split()[1:]:
        assert Path(found).resolve().is_relative_to(ROOT), found  # not PyPI's namesakes
    assert "NETWORK-CONNECT-ATTEMPT" not in proc.stderr


def test_blocker_really_blocks_issuer(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_BLOCKER)
    proc = subprocess.run(
        [sys.executable, "-c", "import issuer"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "blocked for this test: issuer" in proc.stderr


def test_unknown_context_never_opens_a_connection(tmp_path: Path) -> None:
    doc = json.loads((VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_text())
    doc["@context"].append("https://example.org/contexts/not-pinned/v1")
    proc = _isolated(tmp_path, "--no-issuer-binding", _write(tmp_path, doc))
    assert proc.returncode == 1, proc.stderr
    assert "CONTEXT_NOT_PINNED: " in proc.stdout
    assert "NETWORK-CONNECT-ATTEMPT" not in proc.stderr
