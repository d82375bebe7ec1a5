"""A revocation racing a re-issue of the same MMS (PostgreSQL, forced with a held row lock).

The revoke locks the award, then waits on the status list's row lock, which a third
connection holds; the re-issue, started next, must wait on the award's lock and then see the
revocation: the award stays revoked with its own reason, nothing replaces it, and the one
``award.revoke`` audit entry records the real ``before``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from contexts.errors import SijilError
from issuer.db.models import Award
from issuer.services.audit import list_audit
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.services.reissue import reissue
from issuer.services.runtime import Runtime
from issuer.services.status import change_status, install_status_lists


def _lock_waiters(rt: Runtime) -> int:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with rt.reading() as session:
        return int(session.scalar(query) or 0)


def _wait_for_waiters(rt: Runtime, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _lock_waiters(rt) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"never saw {count} transaction(s) waiting on a lock")


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = work()
        except SijilError as exc:
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_revoke_racing_reissue_keeps_the_revocation_and_issues_no_replacement(
    rt: Runtime,
) -> None:
    install_status_lists(rt)
    seed_demo(rt)
    coa = next(a.id for a in list_awards(rt, learner="S1001", award_type="COA", status="active"))
    mms = next(a.id for a in list_awards(rt, learner="S1001", award_type="MMS", status="active"))
    change_status(rt, [coa], "revoke", reason="issued in error", actor="t")
    reissue(rt, coa, reason="corrected record", actor="t")  # the MMS is now offered
    revoker = install_status_lists(open_runtime(rt.settings, run_migrations=False))
    reissuer = install_status_lists(open_runtime(rt.settings, run_migrations=False))
    try:
        with rt.engine.connect() as holder:
            holder.execute(text("SELECT id FROM status_lists ORDER BY id FOR UPDATE"))
            revoking, revoked = _in_thread(
                lambda: change_status(revoker, [mms], "revoke", reason="FRAUD", actor="registrar")
            )
            _wait_for_waiters(rt, 1)  # the revoke holds the award, waits for the list
            reissuing, reissued = _in_thread(
                lambda: reissue(reissuer, mms, reason="stack the new COA", actor="clerk")
            )
            _wait_for_waiters(rt, 2)  # the re-issue waits behind the revoke
            holder.rollback()
        revoking.join(timeout=60)
        reissuing.join(timeout=60)
        assert not revoking.is_alive()
        assert not reissuing.is_alive()
    finally:
        revoker.close()
        reissuer.close()
    assert "error" not in revoked, revoked.get("error")
    error = reissued.get("error")
    assert isinstance(error, SijilError), reissued
    assert error.code == "AWARD_CHANGED"
    with rt.reading() as session:
        row = session.get(Award, mms)
        assert row is not None
        assert (row.status, row.status_reason) == ("revoked", "FRAUD")
        replacements = session.scalar(
            select(func.count()).select_from(Award).where(Award.replaces_id == mms)
        )
    assert replacements == 0
    entries = [e for e in list_audit(rt, action="award.revoke") if e.target_id == mms]
    assert [(e.detail["before"], e.detail["reason"]) for e in entries] == [("active", "FRAUD")]
    assert [e for e in list_audit(rt, action="award.reissue") if e.target_id == mms] == []
