"""Crash safety: kill -9 the issuer in the middle of a bulk import, run the import again, and
every due award exists exactly once, with its audit entry, and verifies (SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from issuer.db.models import AuditEntry, Award
from issuer.services.awards import list_awards
from issuer.services.demo import seed_demo
from issuer.services.runtime import Runtime
from issuer.services.status import OwnStatusListFetcher
from issuer.settings import Settings
from verifier.report import verify_credential

LEARNERS = 30
UNITS = ("DAF101", "DVZ102", "PYD103")


def _csv(path: Path) -> None:
    lines = ["learner_id,learner_email,learner_name,micro_credential,event,item,score"]
    for i in range(LEARNERS):
        who = f"K{i:03d},k{i}@x.my,Pelajar {i}"
        for mc in UNITS:
            lines += [f"{who},{mc},material_completed,{mc}-M{m}," for m in (1, 2)]
            lines += [f"{who},{mc},assessment_result,{mc}-{a},75" for a in ("QZ", "PJ")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "SIJIL_INSTANCE_DIR": str(settings.instance_dir),
        "SIJIL_DATABASE_URL": settings.database_url,
        "SIJIL_BASE_URL": settings.base_url,
        "SIJIL_KEY_PASSPHRASE": settings.key_passphrase,
        "SIJIL_SECRET_KEY": settings.secret_key,
    }


def _awards(rt: Runtime) -> int:
    with rt.reading() as session:
        return session.scalar(select(func.count()).select_from(Award)) or 0


def test_kill_9_mid_import_then_rerun(rt: Runtime, tmp_path: Path) -> None:
    seed_demo(rt)
    baseline = _awards(rt)
    csv_file = tmp_path / "lms.csv"
    _csv(csv_file)
    command = [
        str(Path(sys.executable).with_name("sijil-issuer")),
        "import-progress",
        str(csv_file),
    ]
    log = tmp_path / "first-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=_env(rt.settings), stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 120
            while _awards(rt) < baseline + 20 and proc.poll() is None:
                assert time.monotonic() < deadline, "the import issued nothing"
                time.sleep(0.02)
            killed_mid_import = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
    assert killed_mid_import, log.read_text(errors="replace")
    assert _awards(rt) < baseline + LEARNERS * 7

    rerun = subprocess.run(
        command, env=_env(rt.settings), capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stderr

    mine = [a for a in list_awards(rt, limit=None) if a.learner.startswith("K")]
    per_learner = Counter((a.learner, a.award_type, a.achievement_code) for a in mine)
    assert set(per_learner.values()) == {1}
    assert Counter(a.award_type for a in mine) == {
        "COC": LEARNERS * 3,
        "COA": LEARNERS * 3,
        "MMS": LEARNERS,
    }
    with rt.reading() as session:
        audited = session.scalar(select(func.count()).where(AuditEntry.action == "award.issue"))
    assert audited == _awards(rt)
    with rt.reading() as session:
        own_lists = OwnStatusListFetcher(rt, session)
        for award in mine:
            report = verify_credential(award.credential(), resolver=rt.resolver, fetcher=own_lists)
            assert report.verified, report.to_dict()["errors"]
