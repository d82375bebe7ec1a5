"""Metrics, request ids and JSON logs of both services (in process, then under real gunicorn).

In process: ``/metrics`` exposes the request counter and latency histogram by route rule, a
verification through the API or the page moves the verdict counter, the issuer's award gauges
equal the database's counts (and follow a revocation), and the issuer's ``/metrics`` needs a
``read`` token. Under gunicorn (2 workers, multiprocess metrics): the scrape sums every worker's
requests exactly, and every stdout line is a JSON object, access lines carrying the request id.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from issuer_web_support import BASE_URL, WebIssuer, auth
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from verifier_web_credentials import coa, issuer_key, sign, tampered

from issuer.db.models import Award
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.services.status import change_status
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app as create_issuer_app
from issuer.web.metrics import DatabaseCollector
from verifier.links import pack_credential
from verifier.settings import VerifierSettings
from verifier.web import create_app
from webplatform.logs import (
    MAX_REQUEST_ID_LENGTH,
    REQUEST_ID_HEADER,
    JsonLogFormatter,
    RequestIdFilter,
    logging_config,
    request_id_from,
)
from webplatform.metrics import metrics_response

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn" / "verifier.py"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(text: str) -> Samples:
    """Sample name + sorted labels -> value, from a text exposition."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def sample(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def verifier_app() -> Flask:
    return create_app(VerifierSettings())


@pytest.fixture
def client(verifier_app: Flask) -> FlaskClient:
    return verifier_app.test_client()


def _metrics(client: FlaskClient, headers: dict[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return scrape(response.get_data(as_text=True))


def test_verifier_metrics_count_requests_by_route_rule_and_status(client: FlaskClient) -> None:
    before = _metrics(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    after = _metrics(client)
    labels = {"service": "verifier", "method": "GET", "endpoint": "/healthz", "status": "200"}
    total = "sijil_http_requests_total"
    assert sample(after, total, **labels) - sample(before, total, **labels) == 3
    unmatched = {"service": "verifier", "method": "GET", "endpoint": "<unmatched>", "status": "404"}
    assert sample(after, total, **unmatched) - sample(before, total, **unmatched) == 1
    # the raw path never becomes a label value
    assert not any("/no/such" in str(key) for key in after)
    count = "sijil_http_request_duration_seconds_count"
    timing = {"service": "verifier", "method": "GET", "endpoint": "/healthz"}
    assert sample(after, count, **timing) - sample(before, count, **timing) == 3
    assert sample(after, "sijil_http_request_duration_seconds_sum", **timing) > 0


def test_verifications_are_counted_by_verdict_and_channel(client: FlaskClient) -> None:
    key = issuer_key()
    signed = sign(coa(key), key)
    before = _metrics(client)
    # No trust list here: a good signature from an unlisted issuer is "unknown_issuer".
    unknown = client.post("/credentials/verify", json={"verifiableCredential": signed})
    assert unknown.status_code == 422, unknown.get_json()
    bad = client.post("/credentials/verify", json={"verifiableCredential": tampered(signed)})
    assert bad.status_code == 422
    page = client.get("/verify", query_string={"c": pack_credential(signed)})
    assert page.status_code == 200
    malformed = client.post("/credentials/verify", json={"verifiableCredential": 5})
    assert malformed.status_code == 400  # no report: not a verification
    after = _metrics(client)

    def delta(channel: str, verdict: str) -> float:
        name = "sijil_verifications_total"
        labels = {"channel": channel, "verdict": verdict}
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("api", "unknown_issuer") == 1
    assert delta("api", "invalid") == 1
    assert delta("page", "unknown_issuer") == 1
    assert delta("page", "invalid") == 0


def test_request_id_is_echoed_when_well_formed_and_replaced_when_not(
    client: FlaskClient,
) -> None:
    given = client.get("/healthz", headers={REQUEST_ID_HEADER: "lb-7f3a:42"})
    assert given.headers[REQUEST_ID_HEADER] == "lb-7f3a:42"
    fresh = client.get("/healthz").headers[REQUEST_ID_HEADER]
    assert len(fresh) == 32
    assert fresh != client.get("/healthz").headers[REQUEST_ID_HEADER]
    for hostile in ("x" * (MAX_REQUEST_ID_LENGTH + 1), "id with spaces", "a\tb", "<script>", ""):
        echoed = client.get("/healthz", headers={REQUEST_ID_HEADER: hostile}).headers
        assert echoed[REQUEST_ID_HEADER] != hostile
        assert len(echoed[REQUEST_ID_HEADER]) == 32
    # errors carry it too
    missing = client.get("/missing", headers={REQUEST_ID_HEADER: "err-1"})
    assert missing.status_code == 404
    assert missing.headers[REQUEST_ID_HEADER] == "err-1"
    assert request_id_from("x" * MAX_REQUEST_ID_LENGTH) == "x" * MAX_REQUEST_ID_LENGTH


def test_json_log_lines_carry_the_request_id(verifier_app: Flask) -> None:
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("sijil.test.deploy")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with verifier_app.test_request_context("/verify", headers={REQUEST_ID_HEADER: "trace-9"}):
            logger.warning("inside a request: %s", "fetch failed", extra={"url": "https://x"})
        logger.info("outside a request")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["request_id"] == "trace-9"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "sijil.test.deploy"
    assert inside["message"] == "inside a request: fetch failed"
    assert inside["url"] == "https://x"
    assert inside["timestamp"].endswith("+00:00")
    assert outside["request_id"] == "-"


# --- the issuer -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    """The demo issued with status lists on, as the serving shells run it."""
    instance = tmp_path_factory.mktemp("instance")
    settings = Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
        }
    )
    rt = open_runtime(settings, status_lists=True)
    try:
        seed_demo(rt)
        tokens = {
            name: create_token(rt, [name], label=name, actor="test")[1]
            for name in ("read", "issue", "metrics")
        }
        yield WebIssuer(rt=rt, app=create_issuer_app(runtime=rt), tokens=tokens)
    finally:
        rt.close()


def _db_award_counts(web: WebIssuer) -> dict[tuple[str, str], int]:
    with web.rt.reading() as session:
        rows = session.execute(
            select(Award.award_type, Award.status, func.count()).group_by(
                Award.award_type, Award.status
            )
        ).all()
    return {(str(t), str(s)): int(n) for t, s, n in rows}


def _gauge_award_counts(samples: Samples) -> dict[tuple[str, str], int]:
    return {
        (dict(labels)["award_type"], dict(labels)["status"]): int(value)
        for (name, labels), value in samples.items()
        if name == "sijil_awards"
    }


def test_issuer_metrics_need_a_metrics_token(web: WebIssuer) -> None:
    client = web.client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth(web.tokens["issue"])).status_code == 403
    assert client.get("/metrics", headers=auth(web.tokens["read"])).status_code == 403
    assert client.get("/metrics", headers=auth(web.tokens["metrics"])).status_code == 200
    paths = client.get("/openapi.json").get_json()["paths"]
    assert paths["/metrics"]["get"]["security"][0]["bearerAuth"] == ["metrics"]
    # the scraper's token reads nothing else
    awards = client.get("/awards", headers=auth(web.tokens["metrics"]))
    assert awards.status_code == 403


def test_issuer_award_gauges_equal_the_database_counts(web: WebIssuer) -> None:
    client = web.client()
    read = auth(web.tokens["metrics"])
    expected = _db_award_counts(web)
    assert sum(expected.values()) > 0  # the demo issued awards
    samples = _metrics(client, read)
    assert _gauge_award_counts(samples) == expected
    assert sample(samples, "sijil_database_up") == 1
    assert sample(samples, "sijil_status_entries", purpose="revocation") >= sum(expected.values())
    # a revocation moves one award from active to revoked and changes one status bit
    with web.rt.reading() as session:
        award_id, award_type = session.execute(
            select(Award.id, Award.award_type).where(Award.status == "active").limit(1)
        ).one()
    changes_before = sample(samples, "sijil_status_list_changes", purpose="revocation")
    change_status(web.rt, [award_id], "revoke", reason="metrics test", actor="test")
    after = _metrics(client, read)
    counts = _gauge_award_counts(after)
    assert counts == _db_award_counts(web)
    assert counts[(award_type, "revoked")] == expected.get((award_type, "revoked"), 0) + 1
    assert counts[(award_type, "active")] == expected[(award_type, "active")] - 1
    assert sample(after, "sijil_status_list_changes", purpose="revocation") == changes_before + 1
    # the issuer's requests are counted under its own service label, by route rule
    client.get(f"/credentials/{award_id}")
    rule = {
        "service": "issuer",
        "method": "GET",
        "endpoint": "/credentials/<award_id>",
        "status": "200",
    }
    assert sample(_metrics(client, read), "sijil_http_requests_total", **rule) >= 1


def test_scrape_still_answers_when_the_database_is_gone(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(tmp_path),
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
        }
    )
    rt = open_runtime(settings)
    try:
        up = scrape(metrics_response([DatabaseCollector(rt)]).get_data(as_text=True))
        assert sample(up, "sijil_database_up") == 1
        rt.engine.dispose()
        database = tmp_path / "sijil.db"
        database.unlink()
        database.mkdir()  # the file is now a folder: every query fails
        down_text = metrics_response([DatabaseCollector(rt)]).get_data(as_text=True)
        down = scrape(down_text)
    finally:
        rt.close()
    assert sample(down, "sijil_database_up") == 0
    assert not any(name == "sijil_awards" for name, _labels in down)
    assert "# TYPE sijil_http_requests_total counter" in down_text  # the rest still answers


def test_logging_config_installs_json_or_text() -> None:
    json_config = logging_config("json", "DEBUG")
    assert json_config["root"]["level"] == "DEBUG"
    assert json_config["formatters"]["sijil"]["()"].endswith("JsonLogFormatter")
    assert "format" in logging_config("text")["formatters"]["sijil"]
    assert set(json_config["loggers"]) == {"gunicorn.error", "gunicorn.access"}


# --- under gunicorn ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_gunicorn_verifier_sums_workers_and_logs_json_lines(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "SIJIL_BIND": f"127.0.0.1:{port}",
        "SIJIL_WORKERS": "2",
        "SIJIL_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "-c", str(GUNICORN_CONFIG), "verifier.web.wsgi:app"]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=err, start_new_session=True
        )
        try:
            healthy = 0
            deadline = time.monotonic() + 60
            while healthy == 0:
                assert proc.poll() is None, stderr.read_text(errors="replace")
                assert time.monotonic() < deadline, "gunicorn did not start"
                try:
                    healthy += _get(port, "/healthz")[0] == 200
                except OSError:
                    time.sleep(0.2)
            for n in range(20):
                status, _ = _get(port, "/healthz", {REQUEST_ID_HEADER: f"gt-{n}"})
                healthy += status == 200
            status, body = _get(port, "/metrics")
            assert status == 200
        finally:
            _stop(proc)
    samples = scrape(body.decode())
    labels = {"service": "verifier", "method": "GET", "endpoint": "/healthz", "status": "200"}
    assert sample(samples, "sijil_http_requests_total", **labels) == healthy
    lines = [line for line in stdout.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    traced = {r["request_id"]: r for r in access if r["request_id"].startswith("gt-")}
    assert set(traced) == {f"gt-{n}" for n in range(20)}
    line = traced["gt-3"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["duration_ms"] >= 0
    assert {"timestamp", "level", "message"} <= set(line)
    loggers = Counter(r["logger"] for r in records)
    assert loggers["gunicorn.error"] >= 1  # gunicorn's own start-up lines are JSON too
