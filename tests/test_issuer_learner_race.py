"""Two transactions creating the same new learner at once (two import workers or instances).

On PostgreSQL the second INSERT waits for the first transaction, then hits the unique
``external_id``: the loser must take the winner's row, not fail its whole import chunk.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from issuer.db.models import Learner
from issuer.domain.catalogue import LearnerSpec
from issuer.services.bootstrap import open_runtime
from issuer.services.catalogue import upsert_learner_in
from issuer.services.runtime import Runtime

SPEC = LearnerSpec("R0001", "r0001@student.example.edu.my", "Pelajar Serentak")


def _wait_until_blocked(rt: Runtime, deadline: float) -> None:
    """Poll until another session waits on a lock (the loser's INSERT behind the winner)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    while time.monotonic() < deadline:
        with rt.reading() as session:
            if session.scalar(query):
                return
        time.sleep(0.02)
    raise AssertionError("the second transaction never waited on the first")


# PostgreSQL only: SQLite serializes writers before the read (BEGIN IMMEDIATE), no race to lose.
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_creation_of_one_learner_takes_the_winners_row(rt: Runtime) -> None:
    assert rt.engine.dialect.name == "postgresql"
    other = open_runtime(rt.settings)
    loser: dict[str, object] = {}

    def second() -> None:
        try:
            with other.transaction() as session:
                row = upsert_learner_in(session, SPEC, rt=other, actor="worker-2")
                loser["id"] = row.id
        except Exception as exc:  # noqa: BLE001 - reported to the main thread below
            loser["error"] = exc

    try:
        with rt.transaction() as session:
            winner = upsert_learner_in(session, SPEC, rt=rt, actor="worker-1")
            worker = threading.Thread(target=second)
            worker.start()
            _wait_until_blocked(rt, time.monotonic() + 30)
            winner_id = winner.id
        worker.join(timeout=30)
        assert not worker.is_alive()
    finally:
        other.close()
    assert "error" not in loser, loser.get("error")
    assert loser["id"] == winner_id
    with rt.reading() as session:
        count = session.scalar(
            select(func.count()).select_from(Learner).where(Learner.external_id == "R0001")
        )
    assert count == 1
