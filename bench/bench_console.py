"""Benchmark: staff console pages with 100,000 awards and 20,000 learners (not a test).

    .venv/bin/python bench/bench_console.py [--awards 100000] [--learners 20000] [--runs 15]
        [--database-url postgresql+psycopg://...]

The demo is seeded through the real pipeline; then learners, awards (a short stand-in for the
signed JSON: list pages never read it) and one ``award.issue`` audit entry per award are bulk
inserted with SQL, spread over twelve months. Every page is requested through the Flask app
(signed in as an admin through a one-time link) ``--runs`` times after one warm-up; the
median and the worst time are printed, and pages over the 300 ms budget are flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from issuer.console.staff import add_staff, issue_sign_in_link
from issuer.db.models import AuditEntry, Award, Issuer, Learner
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.settings import Settings
from issuer.web import create_app

BUDGET_MS = 300.0
TYPES = ("COC", "COA", "MMS")
CODES = ("DAF101", "DVZ102", "PYD103", "ESG201")


def _settings(instance: str, url: str) -> Settings:
    return Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": instance,
            "SIJIL_DATABASE_URL": url,
            "SIJIL_BASE_URL": "https://issuer.bench.example",
            "SIJIL_KEY_PASSPHRASE": "bench-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "bench-secret-not-secret",
            "SIJIL_RATE_LIMITS_ENABLED": "0",
            "SIJIL_NOTIFY_LEARNERS": "0",
        }
    )


def fill(rt_url: str, instance: str, awards: int, learners: int) -> None:
    """Bulk-insert learners, awards and their audit entries."""
    rt = open_runtime(_settings(instance, rt_url))
    try:
        seed_demo(rt)
        now = datetime.now(UTC)
        with rt.transaction() as session:
            issuer_id = session.scalar(select(Issuer.id).where(Issuer.is_default.is_(True)))
            first = (session.scalar(select(Learner.id).order_by(Learner.id.desc())) or 0) + 1
            session.execute(
                insert(Learner),
                [
                    {
                        "id": first + i,
                        "external_id": f"B{i:06d}",
                        "email": f"learner{i}@student.example.edu.my",
                        "name": f"Bench Learner {i}",
                        "salt": "00" * 16,
                        "created_at": now,
                    }
                    for i in range(learners)
                ],
            )
            rows, audit = [], []
            for n in range(awards):
                award_id = str(uuid.uuid4())
                kind = TYPES[n % 3]
                at = now - timedelta(minutes=5 * n)
                revoked = n % 97 == 0
                rows.append(
                    {
                        "id": award_id,
                        "learner_id": first + (n % learners),
                        "award_type": kind,
                        # per learner and type, one code per award keeps the unique index happy
                        "achievement_code": f"{CODES[(n // learners) % 4]}-{n // (learners * 4)}",
                        "issuer_id": issuer_id,
                        "credential_id": f"https://issuer.bench.example/credentials/{award_id}",
                        "credential_json": json.dumps(
                            {"id": f"urn:bench:{award_id}", "type": ["x"]}
                        ),
                        "issued_at": at,
                        "status": "revoked" if revoked else "active",
                        "status_changed_at": at if revoked else None,
                        "status_reason": "bench" if revoked else None,
                    }
                )
                audit.append(
                    {
                        "at": at,
                        "actor": "bench",
                        "action": "award.issue",
                        "target_type": "award",
                        "target_id": award_id,
                        "detail": {},
                    }
                )
            for start in range(0, awards, 5000):
                session.execute(insert(Award), rows[start : start + 5000])
                session.execute(insert(AuditEntry), audit[start : start + 5000])
        add_staff(rt, "bench-admin@example.edu", "admin", actor="bench")
    finally:
        rt.close()


def measure(url: str, instance: str, runs: int) -> list[tuple[str, float, float]]:
    """(page, median ms, worst ms) for each console page."""
    rt = open_runtime(_settings(instance, url), status_lists=True)
    try:
        app = create_app(runtime=rt)
        client = app.test_client()
        secret = issue_sign_in_link(rt, "bench-admin@example.edu", actor="bench")
        page = client.get(f"/console/sign-in/{secret}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        client.post(f"/console/sign-in/{secret}", data={"csrf": csrf.group(1)})
        with rt.reading() as session:
            some = session.execute(
                select(Award.id, Learner.external_id)
                .join(Learner, Learner.id == Award.learner_id)
                .where(Learner.external_id.like("B%"))
                .limit(1)
            ).one()
        listing = client.get("/console/awards?type=COA")
        cursor = re.search(r'href="([^"]*after=[^"]*)"', listing.text)
        deep = "/console/awards"
        for _ in range(100):  # walk 100 pages deep for a realistic "page 100" cursor
            found = re.search(r'href="(/console/awards\?[^"]*after=[^"]*)"', client.get(deep).text)
            if found is None:
                break
            deep = found.group(1).replace("&amp;", "&")
        pages = {
            "dashboard": "/console/",
            "awards (first page)": "/console/awards",
            "awards type=COA": "/console/awards?type=COA",
            "awards status=revoked": "/console/awards?status=revoked",
            "awards by learner": f"/console/awards?learner={some.external_id}",
            "awards date range": "/console/awards?since=2026-01-01&until=2026-03-31",
            "awards page 100": deep,
            "award page": f"/console/awards/{some.id}",
            "revoke confirmation": f"/console/awards/{some.id}/revoke",
            "learner search (name)": "/console/learners?q=Learner%201999",
            "learner search (e-mail)": "/console/learners?q=learner777@",
            "learner page": f"/console/learners/{some.external_id}",
            "audit log": "/console/audit",
            "audit by target": f"/console/audit?target={some.id}",
            "audit by action": "/console/audit?action=award.issue",
            "catalogue": "/console/catalogue",
            "issuers and keys": "/console/issuers",
            "tokens": "/console/tokens",
        }
        assert cursor is not None
        out = []
        for name, path in pages.items():
            first = client.get(path)
            assert first.status_code == 200, (name, path, first.status_code)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200
            out.append((name, statistics.median(times), max(times)))
        return out
    finally:
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--awards", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    os.environ.setdefault("SIJIL_ENV", "development")
    with tempfile.TemporaryDirectory() as instance:
        url = args.database_url or f"sqlite:///{Path(instance) / 'sijil.db'}"
        start = time.perf_counter()
        fill(url, instance, args.awards, args.learners)
        print(
            f"filled {args.awards} awards, {args.learners} learners in "
            f"{time.perf_counter() - start:.1f} s ({url.split(':', 1)[0]})"
        )
        results = measure(url, instance, args.runs)
    print(f"{'page':28} {'median ms':>10} {'worst ms':>10}")
    for name, median, worst in results:
        flag = "" if median < BUDGET_MS else "  OVER BUDGET"
        print(f"{name:28} {median:10.1f} {worst:10.1f}{flag}")


if __name__ == "__main__":
    main()
