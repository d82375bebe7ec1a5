"""``sijil-verify serve --certfile F --keyfile F``: the verifier serves HTTPS itself.

A real server process, a real TLS handshake against a test CA, real VC-API requests.
"""

from __future__ import annotations

import json
import select
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _https import TLSFiles, make_tls
from click.testing import CliRunner

from verifier.cli import cli

_START_TIMEOUT = 60.0


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def https_server(tls: TLSFiles) -> Iterator[str]:
    """The base URL of a ``sijil-verify serve`` process serving HTTPS on a free port."""
    command = [
        sys.executable,
        "-c",
        "from verifier.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--certfile",
        tls.certfile,
        "--keyfile",
        tls.keyfile,
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            deadline = time.monotonic() + _START_TIMEOUT
            line = ""
            # Log lines may come first; the server prints its address once it listens.
            while "serving on" not in line and time.monotonic() < deadline:
                ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
                line = proc.stdout.readline() if ready else ""
                if ready and not line:
                    break  # the process exited
            assert "serving on https://" in line, f"server did not start: {line!r}"
            yield line.strip().rsplit(" ", 1)[-1].rstrip("/")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _client(tls: TLSFiles) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=tls.cafile)


def _post(url: str, body: dict[str, Any], context: ssl.SSLContext) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_serve_answers_over_https(https_server: str, tls: TLSFiles) -> None:
    assert https_server.startswith("https://127.0.0.1:")
    with urllib.request.urlopen(
        https_server + "/healthz", context=_client(tls), timeout=30
    ) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def test_vc_api_over_https_refuses_a_json_string_credential(
    https_server: str, tls: TLSFiles
) -> None:
    status, problem = _post(
        https_server + "/credentials/verify",
        {"verifiableCredential": json.dumps({"type": ["VerifiableCredential"]})},
        _client(tls),
    )
    assert status == 400
    assert problem["code"] == "MALFORMED_VALUE_ERROR"


def test_serve_certificate_is_checked_by_the_client(https_server: str) -> None:
    """Without the test CA the handshake fails: the server really presents its certificate."""
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(
            https_server + "/healthz", context=ssl.create_default_context(), timeout=30
        )


def test_serve_with_certfile_but_no_keyfile(tls: TLSFiles) -> None:
    result = CliRunner().invoke(cli, ["serve", "--certfile", tls.certfile])
    assert result.exit_code == 2
    assert result.stderr.startswith("SETTINGS_ERROR:")


def test_serve_with_unreadable_key(tls: TLSFiles, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    result = CliRunner().invoke(cli, ["serve", "--certfile", tls.certfile, "--keyfile", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith("SETTINGS_ERROR:")
