"""Two issuer instances (separate gunicorn masters, 2 workers each) on one PostgreSQL database.

The deployment of docs/DEPLOYMENT.md in miniature: ``sijil-issuer init`` runs once, then two
instances start from the production gunicorn configuration with ``SIJIL_ENV=production``, one
shared key store folder and the passphrase from a private file. Every learner's progress is
posted to *both* instances at the same moment, so each award is raced for by two processes.
Afterwards every award exists exactly once, every credential verifies, no status index was
handed out twice, and either instance's ``/metrics`` reports the same database-derived award
counts (and sums its own two workers' requests exactly).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from postgres import reset_database
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from issuer.db.models import Award, StatusEntry
from issuer.domain.catalogue import LearnerSpec
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_learner, upsert_micro_credential
from issuer.services.demo import DEMO_MICRO_CREDENTIALS
from issuer.services.issuance import own_issuers, pin_issuer_documents
from issuer.services.status import OwnStatusListFetcher
from issuer.services.tokens import create_token
from issuer.settings import Settings
from verifier.report import verify_credential

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "gunicorn" / "issuer.py"
BIN = Path(sys.executable).parent
LEARNERS = 6
MC = DEMO_MICRO_CREDENTIALS[0]  # DAF101: materials M1, M2; assessments QZ, PJ


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _call(
    port: int, method: str, path: str, *, token: str | None = None, body: Any = None, rid: str = ""
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if rid:
        headers["X-Request-ID"] = rid
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def _instance(name: str, env: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """One gunicorn master (2 workers) on a free port; stopped (SIGTERM, then SIGKILL)."""
    port = _free_port()
    log = tmp_path / f"{name}.log"
    env = {
        **env,
        "SIJIL_BIND": f"127.0.0.1:{port}",
        "SIJIL_WORKERS": "2",
        "SIJIL_THREADS": "4",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{name}"),
    }
    command = [str(BIN / "gunicorn"), "-c", str(CONFIG), "issuer.web.wsgi:app"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=out, start_new_session=True
        )
        try:
            yield port, log
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def _wait_ready(ports: list[int], logs: list[Path]) -> None:
    """Poll ``/readyz`` until every instance answers 200 (90 s at most)."""
    deadline = time.monotonic() + 90
    pending = set(ports)
    while pending:
        for port, log in zip(ports, logs, strict=True):
            if port not in pending:
                continue
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            try:
                if _call(port, "GET", "/readyz")[0] == 200:
                    pending.discard(port)
            except OSError:
                pass
        time.sleep(0.2)


def _events(learner: str) -> dict[str, Any]:
    code = MC.code
    base = {"learner": learner, "microCredential": code}
    return {
        "events": [
            {**base, "type": "materialCompleted", "item": f"{code}-M1"},
            {**base, "type": "materialCompleted", "item": f"{code}-M2"},
            {**base, "type": "assessmentResult", "item": f"{code}-QZ", "score": 80},
            {**base, "type": "assessmentResult", "item": f"{code}-PJ", "score": 75},
        ]
    }


def _award_gauges(text: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["award_type"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "sijil_awards"
    }


def _progress_requests(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "sijil_http_requests_total"
        and s.labels["endpoint"] == "/progress"
        and s.labels["status"] == "200"
    )


def test_two_issuer_instances_share_one_database_and_issue_each_award_once(
    tmp_path: Path, postgres_server: str
) -> None:
    reset_database(postgres_server)
    instance = tmp_path / "instance"  # the shared key store lives in instance/keys
    passphrase = tmp_path / "secrets" / "key-passphrase"
    passphrase.parent.mkdir()
    passphrase.write_text("mounted passphrase for the test key store\n", encoding="utf-8")
    passphrase.chmod(0o400)
    env = {
        **os.environ,
        "SIJIL_ENV": "production",
        "SIJIL_INSTANCE_DIR": str(instance),
        "SIJIL_DATABASE_URL": postgres_server,
        "SIJIL_BASE_URL": "https://issuer.test.example",
        "SIJIL_KEY_PASSPHRASE_FILE": str(passphrase),
        "SIJIL_SECRET_KEY": "shared-secret-key-of-every-instance",
        "SIJIL_VERIFIER_URL": "https://verify.test.example",
        "SIJIL_LOG_FORMAT": "json",
        "SIJIL_NOTIFY_LEARNERS": "0",  # no SMTP here; production refuses to mail otherwise
    }
    for name in ("SIJIL_KEY_PASSPHRASE", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    with ExitStack() as stack:
        # The instances start while `init` runs: their workers' schema check and `init`'s
        # migration meet on the advisory lock; /readyz turns 200 once the issuer exists.
        a_port, a_log = stack.enter_context(_instance("a", env, tmp_path))
        b_port, b_log = stack.enter_context(_instance("b", env, tmp_path))
        init = subprocess.run(
            [str(BIN / "sijil-issuer"), "init"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert init.returncode == 0, init.stderr
        rt = open_runtime(Settings.from_env(env), run_migrations=False, status_lists=True)
        stack.callback(rt.close)
        upsert_micro_credential(rt, MC, actor="test")
        learners = [f"MI{n:03d}" for n in range(LEARNERS)]
        for external_id in learners:
            upsert_learner(
                rt, LearnerSpec(external_id, f"{external_id.lower()}@x.my", external_id), actor="t"
            )
        issue = create_token(rt, ["issue"], label="lms", actor="test")[1]
        read = create_token(rt, ["metrics"], label="prometheus", actor="test")[1]
        _wait_ready([a_port, b_port], [a_log, b_log])

        def post(job: tuple[int, str, int]) -> tuple[int, dict[str, Any]]:
            port, learner, n = job
            status, body = _call(
                port, "POST", "/progress", token=issue, body=_events(learner), rid=f"mi-{n}"
            )
            return status, json.loads(body)

        jobs = [
            (port, learner, 2 * i + k)
            for i, learner in enumerate(learners)
            for k, port in enumerate((a_port, b_port))
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(post, jobs))
        assert [status for status, _ in answers] == [200] * len(jobs), answers

        scrapes = {}
        for port in (a_port, b_port):
            status, body = _call(port, "GET", "/metrics", token=read)
            assert status == 200
            scrapes[port] = body.decode()
        # credentials are served byte for byte by either instance
        with rt.reading() as session:
            stored = {a.id: a.credential_json for a in session.scalars(select(Award))}
        for n, (award_id, text) in enumerate(sorted(stored.items())):
            status, body = _call((a_port, b_port)[n % 2], "GET", f"/credentials/{award_id}")
            assert status == 200
            assert body.decode() == text

        # every award was raced for by both instances and exists exactly once
        issued = Counter(
            (award["learner"], award["awardType"])
            for _, body in answers
            for award in body["issued"]
        )
        assert issued == Counter({(lr, kind): 1 for lr in learners for kind in ("COC", "COA")})
        with rt.reading() as session:
            awards = list(session.scalars(select(Award)))
            entries = session.execute(select(StatusEntry.list_id, StatusEntry.index)).all()
        assert Counter(a.award_type for a in awards) == {"COC": LEARNERS, "COA": LEARNERS}
        assert len({(a.learner_id, a.award_type, a.achievement_code) for a in awards}) == len(
            awards
        )
        # no status index handed out twice, in the database or in the signed credentials
        assert len(entries) == len(set(entries)) >= len(awards)
        in_credentials = []
        for award in awards:
            status = json.loads(award.credential_json).get("credentialStatus", [])
            for entry in status if isinstance(status, list) else [status]:
                in_credentials.append((entry["statusListCredential"], entry["statusListIndex"]))
        assert len(in_credentials) >= len(awards)
        assert len(in_credentials) == len(set(in_credentials))
        # every credential verifies (our own DID document and status lists, no network)
        pin_issuer_documents(rt)
        with rt.reading() as session:
            own_lists = OwnStatusListFetcher(rt, session)
            for award in awards:
                report = verify_credential(
                    json.loads(award.credential_json),
                    resolver=rt.resolver,
                    fetcher=own_lists,
                    trust=own_issuers(rt),
                )
                assert report.verified, report.to_dict()["errors"]

    # both instances report the same, exact, database-derived counts
    expected = {("COC", "active"): float(LEARNERS), ("COA", "active"): float(LEARNERS)}
    assert _award_gauges(scrapes[a_port]) == expected
    assert _award_gauges(scrapes[b_port]) == expected
    # each instance's scrape sums its two workers: one /progress call per learner each
    assert _progress_requests(scrapes[a_port]) == LEARNERS
    assert _progress_requests(scrapes[b_port]) == LEARNERS
    # the access lines are JSON with our request ids (half on each instance)
    records = [
        json.loads(line)  # every line both instances wrote is one JSON object
        for log in (a_log, b_log)
        for line in log.read_text(errors="replace").splitlines()
        if line.strip()
    ]
    seen = {
        r["request_id"]
        for r in records
        if r["logger"] == "gunicorn.access" and r.get("path") == "/progress"
    }
    assert seen == {f"mi-{n}" for n in range(2 * LEARNERS)}
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")], "errors logged"
