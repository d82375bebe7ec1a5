"""The verifier app deploys alone and serves over real HTTP (subprocesses, no issuer)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCKED = ("issuer", "sqlalchemy", "alembic", "fpdf", "psycopg")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SIJIL_")}


def test_app_runs_with_issuer_and_database_stack_absent(tmp_path: Path) -> None:
    program = f"""
import json, sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # any import of these now raises ImportError
from verifier.web import create_app
client = create_app().test_client()
out = {{
    "healthz": client.get("/healthz").status_code,
    "index": client.get("/").status_code,
    "bad": client.post("/credentials/verify", json={{"verifiableCredential": 1}}).status_code,
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {BLOCKED!r}
                     and sys.modules[m] is not None),
}}
print(json.dumps(out))
"""
    proc = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"healthz": 200, "index": 200, "bad": 400, "loaded": []}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_over_http(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from verifier.web import serve; serve('127.0.0.1', {port})"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while body is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    body = json.loads(r.read())
                    headers = r.headers
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert body == {"status": "ok"}
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
