"""Crash safety: kill -9 the issuer in the middle of a bulk import, run the import again, and
every due award exists exactly once, with its audit entry, and verifies (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from issuance_support import verify_all
from sqlalchemy import func, select

from issuer.db.models import AuditEntry, Award, StatusEntry
from issuer.services.awards import list_awards
from issuer.services.demo import seed_demo
from issuer.services.runtime import Runtime
from issuer.settings import Settings

ROWS = 10_000
LEARNERS = 100
UNITS = ("DAF101", "DVZ102", "PYD103")
#: Learners 0-39 finish everything (COC + COA per unit, then the MMS), 40-69 only the materials
#: (a COC per unit), 70-99 never finish a unit: 40 * 7 + 30 * 3 awards.
FULL, MATERIALS_ONLY = 40, 30
DUE = {"COC": (FULL + MATERIALS_ONLY) * 3, "COA": FULL * 3, "MMS": FULL}


def _csv(path: Path) -> None:
    """Write exactly :data:`ROWS` rows of progress, most of them re-attempts and repeats.

    An LMS export is mostly noise for award purposes (repeat views, failed attempts before a
    pass), so the 10,000 rows make a few hundred awards and the test stays quick.
    """
    rows: list[str] = []
    for i in range(LEARNERS):
        who = f"K{i:03d},k{i}@x.my,Pelajar {i}"
        for mc in UNITS:
            rows.append(f"{who},{mc},material_completed,{mc}-M1,")
            if i < FULL + MATERIALS_ONLY:
                rows.append(f"{who},{mc},material_completed,{mc}-M2,")
            if i < FULL:
                rows += [f"{who},{mc},assessment_result,{mc}-{a},75" for a in ("QZ", "PJ")]
            else:
                rows.append(f"{who},{mc},assessment_result,{mc}-QZ,30")
    padding = ROWS - len(rows)
    for n in range(padding):  # repeats: re-views and retakes that change nothing
        i, mc = n % LEARNERS, UNITS[n % len(UNITS)]
        rows.append(f"K{i:03d},k{i}@x.my,Pelajar {i},{mc},material_completed,{mc}-M1,")
    lines = ["learner_id,learner_email,learner_name,micro_credential,event,item,score", *rows]
    assert len(lines) - 1 == ROWS
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


def _signed(rt: Runtime) -> dict[str, str]:
    """Award id -> the stored signed credential's proofValue (what must never be lost)."""
    with rt.reading() as session:
        return {
            award.id: json.loads(award.credential_json)["proof"]["proofValue"]
            for award in session.scalars(select(Award))
        }


def _status_entries(credential: dict[str, Any]) -> list[dict[str, Any]]:
    status = credential.get("credentialStatus", [])
    return status if isinstance(status, list) else [status]


def _awards(rt: Runtime) -> int:
    with rt.reading() as session:
        return session.scalar(select(func.count()).select_from(Award)) or 0


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


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
            helpers = _descendants(proc.pid)  # the signing pool's fork server and workers
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
    assert killed_mid_import, log.read_text(errors="replace")
    assert helpers, "the import ran without signing workers"
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in helpers if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"signing workers outlived the killed import: {alive}"
    signed_before_rerun = _signed(rt)
    assert len(signed_before_rerun) < baseline + sum(DUE.values())

    rerun = subprocess.run(
        command, env=_env(rt.settings), capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stderr

    mine = [a for a in list_awards(rt, limit=None) if a.learner.startswith("K")]
    per_learner = Counter((a.learner, a.award_type, a.achievement_code) for a in mine)
    assert set(per_learner.values()) == {1}
    assert Counter(a.award_type for a in mine) == DUE
    after = _signed(rt)
    lost = {k: v for k, v in signed_before_rerun.items() if after.get(k) != v}
    assert not lost, f"credentials signed before the crash changed or vanished: {sorted(lost)}"
    in_credentials = [
        (entry["statusListCredential"], entry["statusListIndex"])
        for award in mine
        for entry in _status_entries(award.credential())
    ]
    assert len(in_credentials) >= len(mine)
    assert len(in_credentials) == len(set(in_credentials)), "a status index was used twice"
    with rt.reading() as session:
        rows = session.execute(select(StatusEntry.list_id, StatusEntry.index)).all()
    assert len(rows) == len(set(rows))
    with rt.reading() as session:
        audited = session.scalar(select(func.count()).where(AuditEntry.action == "award.issue"))
    assert audited == _awards(rt)
    verify_all(rt, mine)
