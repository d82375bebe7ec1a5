"""Real servers: the demo learner's COC, COA and MMS fetched over HTTPS and verified.

The issuer is did:web on ``localhost``, and did:web resolves over HTTPS only, so the issuer runs
on a real local TLS server (a throw-away CA from ``tests/_https.py``) and the verifier's code
fetches the DID document through the SSRF-guarded fetcher with loopback allowed. The last test
runs the README's dev server (``python -m issuer.devserver``) in a subprocess, as a person would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _https import make_tls
from issuer_web_support import WebIssuer, web_issuer
from verifier_trust import trust_for

from issuer.devserver import ServerThread, credential_urls, dev_environment
from issuer.devtls import ensure_dev_tls
from keys.fetch import SafeFetcher
from keys.resolve import Resolver
from verifier.report import verify_credential

ROOT = Path(__file__).resolve().parent.parent


class _LateApp:
    """A WSGI app set after the server is bound (the base URL needs the port)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


def _get(url: str, context: ssl.SSLContext, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        body: bytes = response.read()
        return body


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WebIssuer, str, str]]:
    tls = make_tls(tmp_path / "tls")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tls.certfile, tls.keyfile)
    late = _LateApp()
    server = ServerThread(late, "127.0.0.1", 0, ssl_context=server_ctx)
    base = f"https://localhost:{server.port}"
    with web_issuer(tmp_path / "instance", base_url=base, demo=True) as web:
        late.app = web.app
        server.start()
        try:
            yield web, base, tls.cafile
        finally:
            server.stop()


def test_demo_learner_credentials_fetched_over_https_verify(
    served: tuple[WebIssuer, str, str],
) -> None:
    web, base, cafile = served
    client_ctx = ssl.create_default_context(cafile=cafile)
    listing = json.loads(
        _get(
            f"{base}/awards?learner=S1001",
            client_ctx,
            {"Authorization": f"Bearer {web.tokens['read']}"},
        )
    )
    urls = {f"{a['awardType']} {a['achievement']}": a["credentialId"] for a in listing["items"]}
    assert {"COC DAF101", "COA DAF101", "MMS PCDA"} <= set(urls)
    fetcher = SafeFetcher(allow_local=True, cafile=cafile)
    resolver = Resolver(fetcher)
    for label in ("COC DAF101", "COA DAF101", "MMS PCDA"):
        assert urls[label].startswith(base + "/credentials/")
        raw = _get(urls[label], client_ctx, {"Accept": "application/vc+ld+json"})
        report = verify_credential(
            raw, resolver=resolver, fetcher=fetcher, trust=trust_for(json.loads(raw))
        )
        assert report.verified, (label, report.to_dict())
    mms = json.loads(_get(urls["MMS PCDA"], client_ctx))
    embedded = mms["credentialSubject"]["verifiableCredential"]
    assert len(embedded) == 3
    for coa in embedded:
        assert verify_credential(
            coa, resolver=resolver, fetcher=fetcher, trust=trust_for(coa)
        ).verified


def test_wrong_ca_is_refused_by_the_fetcher(
    served: tuple[WebIssuer, str, str], tmp_path: Path
) -> None:
    web, _base, _cafile = served
    other = make_tls(tmp_path / "other")
    fetcher = SafeFetcher(allow_local=True, cafile=other.cafile)
    award = json.loads(
        web.client()
        .get(
            "/awards?learner=S1001&type=COA",
            headers={"Authorization": f"Bearer {web.tokens['read']}"},
        )
        .get_data()
    )["items"][0]
    credential = web.client().get(f"/credentials/{award['id']}").get_data()
    report = verify_credential(credential, resolver=Resolver(fetcher), fetcher=fetcher)
    assert not report.verified


def test_dev_environment_fills_only_missing_defaults() -> None:
    env, filled = dev_environment({"SIJIL_BASE_URL": "https://x.example"}, port=5123, tls=True)
    assert env["SIJIL_BASE_URL"] == "https://x.example"
    assert env["SIJIL_ALLOW_LOCAL_FETCH"] == "1"
    assert "SIJIL_BASE_URL" not in filled
    assert "SIJIL_INSTANCE_DIR" in filled
    plain, _ = dev_environment({}, port=5123, tls=False)
    assert plain["SIJIL_BASE_URL"] == "http://localhost:5123"


def test_dev_tls_is_made_once_and_reused(tmp_path: Path) -> None:
    first = ensure_dev_tls(tmp_path / "dev-tls")
    ca = first.cafile.read_bytes()
    second = ensure_dev_tls(tmp_path / "dev-tls")
    assert second.cafile.read_bytes() == ca
    assert oct(first.keyfile.stat().st_mode & 0o777) == "0o600"
    assert second.bundle.read_bytes().startswith(ca)
    ssl.create_default_context(cafile=str(second.bundle))  # a loadable bundle


def test_credential_urls_orders_coc_coa_then_mms(served: tuple[WebIssuer, str, str]) -> None:
    from issuer.services.awards import list_awards

    web, _base, _cafile = served
    labels = list(credential_urls(list_awards(web.rt, limit=None), "S1001"))
    assert labels[-1] == "MMS PCDA"
    assert labels.index("COC DAF101") < labels.index("COA DAF101")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _read_until(stream: Any, marker: str, timeout: float, lines: list[str]) -> None:
    done = threading.Event()

    def pump() -> None:
        for line in stream:
            lines.append(line)
            if marker in line:
                done.set()
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    done.wait(timeout)


def test_devserver_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, verifier_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIJIL_", "SSL_CERT"))}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "issuer.devserver",
            "--port",
            str(port),
            "--verifier-port",
            str(verifier_port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        _read_until(proc.stdout, "Ctrl-C stops", 90, lines)
        out = "".join(lines)
        assert "Ctrl-C stops" in out, out
        mms_url = next(line.split()[-1] for line in lines if line.strip().startswith("MMS PCDA"))
        assert mms_url.startswith(f"https://localhost:{port}/credentials/")
        assert f"http://127.0.0.1:{verifier_port}/verify?url=" in out
        assert "sijil-verify" in out
        cafile = str(tmp_path / "instance" / "dev-tls" / "ca.pem")
        raw = _get(mms_url, ssl.create_default_context(cafile=cafile))
        fetcher = SafeFetcher(allow_local=True, cafile=cafile)
        report = verify_credential(
            raw, resolver=Resolver(fetcher), fetcher=fetcher, trust=trust_for(json.loads(raw))
        )
        assert report.verified, report.to_dict()
        verify_url = next(
            line.split("verify: ")[-1].strip() for line in lines if "verify: " in line
        )
        page = _get(verify_url, ssl.create_default_context())  # the verifier fetches the issuer
        assert b'data-verdict="valid"' in page
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:  # also when the wait failed: a pipe left open fails a later test
            if proc.stdout is not None:
                proc.stdout.close()
    assert code == 0
