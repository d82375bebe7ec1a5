"""Database faults injected for real: PostgreSQL restarts mid-import and mid-revoke, a full disk.

Each fault must end in a typed error with the next step (``CODE: detail`` on the CLI, exit 1,
no traceback), leave nothing half-done, and a re-run of the same command must finish the work
exactly once.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from faults_support import CLI, PgCluster, cli_env, in_private_mounts, run_cli
from postgres import create_database
from sqlalchemy.engine import make_url

from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.settings import Settings

LEARNERS = 260  # 520 rows: the first 500-row chunk commits before the stop


def _csv(path: Path, learners: int = LEARNERS) -> Path:
    lines = ["learner_id,learner_email,learner_name,micro_credential,event,item"]
    for n in range(learners):
        for item in ("ESG201-M1", "ESG201-M2"):
            lines.append(f"F{n:04d},f{n:04d}@x.my,Pelajar {n},ESG201,material_completed,{item}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _wait_for_lock_waiter(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
        if row and int(str(row[0])) > 0:
            return
        time.sleep(0.05)
    raise AssertionError("the command never waited on the held lock")


def _coc_count(env: dict[str, str]) -> int:
    rt = open_runtime(Settings.from_env(env), run_migrations=False)
    try:
        return len(list_awards(rt, award_type="COC", limit=None))
    finally:
        rt.close()


def _stopped_under(
    cluster: PgCluster, url: str, command: list[str], env: dict[str, str]
) -> tuple[str, str, int]:
    """Run ``command`` until it waits on the held lock, stop the server, collect its output."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        with psycopg.connect(_conninfo(url), autocommit=True) as watcher:
            _wait_for_lock_waiter(watcher)
        cluster.stop()
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return out, err, process.returncode


@pytest.mark.postgres
def test_postgres_restart_mid_import_says_rerun_and_the_rerun_loses_nothing(
    tmp_path: Path,
) -> None:
    with PgCluster() as cluster:
        url = create_database(cluster.admin_url, "faults")
        env = cli_env(tmp_path / "instance", url)
        assert run_cli(env, "demo").returncode == 0
        before = _coc_count(env)
        csv_file = _csv(tmp_path / "progress.csv")
        holder = psycopg.connect(_conninfo(url), autocommit=False)
        try:
            # A learner of the second chunk exists and is locked: the first chunk commits, the
            # second waits on the row lock, and the server goes down under it.
            holder.execute(
                "INSERT INTO learners (external_id, email, name, salt, created_at) VALUES "
                "('F0255', 'f0255@x.my', 'Pelajar 255', 'salt0255', now())"
            )
            holder.commit()
            holder.execute("SELECT id FROM learners WHERE external_id = 'F0255' FOR UPDATE")
            out, err, code = _stopped_under(
                cluster, url, [CLI, "import-progress", str(csv_file)], env
            )
        finally:
            holder.close()
        assert code == 1, (out, err)
        assert "Traceback" not in err, err
        assert err.strip().splitlines()[-1].startswith("DATABASE_UNAVAILABLE: ")
        assert "re-run" in err
        assert "nothing of the interrupted transaction was saved" in err
        cluster.start()
        partial = _coc_count(env) - before
        assert 0 < partial < LEARNERS  # the first chunk was committed, not the rest
        rerun = run_cli(env, "import-progress", str(csv_file))
        assert rerun.returncode == 0, rerun.stderr
        assert _coc_count(env) - before == LEARNERS  # every learner exactly once
        again = run_cli(env, "import-progress", str(csv_file))
        assert again.returncode == 0
        assert _coc_count(env) - before == LEARNERS


@pytest.mark.postgres
def test_postgres_restart_mid_revoke_changes_nothing_and_the_rerun_revokes(
    tmp_path: Path,
) -> None:
    with PgCluster() as cluster:
        url = create_database(cluster.admin_url, "faults")
        env = cli_env(tmp_path / "instance", url)
        assert run_cli(env, "demo").returncode == 0
        rt = open_runtime(Settings.from_env(env), run_migrations=False)
        try:
            award = list_awards(rt, award_type="COA", status="active")[0].id
        finally:
            rt.close()
        holder = psycopg.connect(_conninfo(url), autocommit=False)
        try:
            holder.execute("SELECT id FROM status_lists FOR UPDATE")
            command = [CLI, "awards", "revoke", award, "--reason", "FRAUD"]
            out, err, code = _stopped_under(cluster, url, command, env)
        finally:
            holder.close()
        assert code == 1, (out, err)
        assert "Traceback" not in err, err
        assert err.strip().splitlines()[-1].startswith("DATABASE_UNAVAILABLE: ")
        cluster.start()
        rt = open_runtime(Settings.from_env(env), run_migrations=False)
        try:
            assert [a.status for a in list_awards(rt) if a.id == award] == ["active"]
            rerun = run_cli(env, "awards", "revoke", award, "--reason", "FRAUD")
            assert rerun.returncode == 0, rerun.stderr
            assert [a.status for a in list_awards(rt) if a.id == award] == ["revoked"]
        finally:
            rt.close()


def test_sqlite_disk_full_mid_import_is_disk_full_and_the_rerun_completes(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    env = cli_env(disk / "instance")
    csv_file = _csv(tmp_path / "progress.csv", learners=10)
    script = f"""
mount -t tmpfs -o size=16m tmpfs {disk}
{CLI} demo > /dev/null
dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null || true
set +e
{CLI} import-progress {csv_file} > {tmp_path}/full.out 2> {tmp_path}/full.err
echo $? > {tmp_path}/full.rc
set -e
rm {disk}/filler
{CLI} import-progress {csv_file} > {tmp_path}/rerun.out 2> {tmp_path}/rerun.err
{CLI} awards list --type COC | wc -l > {tmp_path}/cocs
{CLI} import-progress {csv_file} > /dev/null
{CLI} awards list --type COC | wc -l > {tmp_path}/cocs-again
"""
    done = in_private_mounts(script, env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    err = (tmp_path / "full.err").read_text()
    assert (tmp_path / "full.rc").read_text().strip() == "1", err
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("DISK_FULL: "), err
    assert "disk I/O error" not in err.splitlines()[-1].split(":", 1)[0]
    cocs = int((tmp_path / "cocs").read_text())
    assert cocs >= 10  # every learner of the file, plus the demo's
    assert int((tmp_path / "cocs-again").read_text()) == cocs  # no duplicates on re-import
