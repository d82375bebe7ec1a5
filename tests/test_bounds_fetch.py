"""Bounded outbound fetches per verification: a fetch count, one deadline, few status entries,
and no fetch at all when the proof fails.

The attacks: a credential with 1,000 ``credentialStatus`` entries (one GET each), and a
credential whose status lists live on a host that accepts connections and never answers
(each fetch waited its full timeout). Durations are not asserted here (see
``bench/bench_bounds.py``); the number of fetches and connections, and the codes, are.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import pytest
from verifier_fixtures import Learner, build_coa, key_from_seed, sign, status_entry

from keys.fetch import FetchTimeoutError, SafeFetcher
from keys.resolve import Resolver
from verifier.budget import (
    FetchBudgetExceededError,
    VerificationDeadlineError,
    VerificationLimits,
)
from verifier.fetchers import MappingFetcher
from verifier.report import VerificationReport, Verifier
from verifier.status import StatusListClient
from webplatform.settings import SettingsError

KEY = key_from_seed(11)
LEARNER = Learner("Siti Nurhaliza", "siti@example.com", "salt-9")
BASE = "https://registry.example.edu.my/status/"


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(conn)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._listener.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def credential(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return sign(build_coa(KEY, LEARNER, "DS601", "Data Ethics", serial=3, status=entries), KEY)


def verify(
    doc: dict[str, Any], fetcher: Any, limits: VerificationLimits | None = None
) -> VerificationReport:
    resolver = Resolver(fetcher)
    verifier = Verifier(
        resolver=resolver,
        fetcher=fetcher,
        status_client=StatusListClient(fetcher, resolver),
        limits=limits,
    )
    return verifier.verify(doc, check_schema=False)


def _error_causes(report: VerificationReport) -> list[str]:
    return [str(e.get("cause", e["code"])) for e in report.errors if e["check"] == "status"]


def test_thousand_status_entries_cost_no_fetch() -> None:
    fetcher = MappingFetcher({})
    report = verify(credential([status_entry(BASE + str(i), i) for i in range(1000)]), fetcher)
    assert fetcher.requests == []
    assert report.checks["status"].codes == ("STATUS_ENTRY_LIMIT_EXCEEDED",)
    assert report.checks["status"].status == "unknown"
    assert report.verdict != "valid"


def test_status_is_not_fetched_when_the_proof_fails() -> None:
    doc = credential([status_entry(BASE + "1", 1)])
    doc["name"] = "Tampered after signing"
    fetcher = MappingFetcher({})
    report = verify(doc, fetcher)
    assert report.checks["proof"].status == "failed"
    assert report.checks["status"].status == "skipped"
    assert fetcher.requests == []


def test_fetch_budget_caps_requests_per_verification() -> None:
    fetcher = MappingFetcher({})
    limits = VerificationLimits(max_fetches=2)
    report = verify(credential([status_entry(BASE + str(i), i) for i in range(4)]), fetcher, limits)
    assert len(fetcher.requests) == 2
    assert _error_causes(report).count(FetchBudgetExceededError.code) == 2


def test_a_failed_url_is_not_fetched_twice_in_one_verification() -> None:
    fetcher = MappingFetcher({})
    entries = [status_entry(BASE + "same", i, p) for i, p in ((1, "revocation"), (2, "suspension"))]
    verify(credential(entries), fetcher)
    assert fetcher.requests == [BASE + "same"]


def test_host_that_never_answers_costs_one_deadline(silent: SilentServer) -> None:
    fetcher = SafeFetcher(allow_local=True, timeout=30.0)
    limits = VerificationLimits(deadline=0.5)
    entries = [status_entry(silent.url(f"/list/{i}"), i) for i in range(4)]
    report = verify(credential(entries), fetcher, limits)
    causes = _error_causes(report)
    # The first fetch waits out the verification's deadline (not its own 30 s timeout);
    # the others are refused without connecting.
    assert causes[0] == "FETCH_TIMEOUT"
    assert causes[1:] == [VerificationDeadlineError.code] * 3
    assert silent.accepted == 1
    assert report.checks["status"].status == "unknown"


def test_safe_fetcher_scoped_deadline_cuts_a_silent_host(silent: SilentServer) -> None:
    fetcher = SafeFetcher(allow_local=True, timeout=30.0).scoped(deadline=time.monotonic() + 0.2)
    with pytest.raises(FetchTimeoutError) as caught:
        fetcher.get_json(silent.url("/x"))
    assert caught.value.code == "FETCH_TIMEOUT"
    assert silent.accepted == 1


def test_scoped_view_never_widens_limits() -> None:
    fetcher = SafeFetcher(max_bytes=1000)
    assert fetcher.scoped(max_bytes=10**9).max_bytes == 1000
    assert fetcher.scoped(max_bytes=10).max_bytes == 10
    assert fetcher.max_bytes == 1000


def test_limits_from_env() -> None:
    limits = VerificationLimits.from_env(
        {
            "SIJIL_VERIFY_MAX_FETCHES": "3",
            "SIJIL_VERIFY_DEADLINE": "2.5",
            "SIJIL_VERIFY_MAX_STATUS_ENTRIES": "2",
        }
    )
    assert limits == VerificationLimits(max_fetches=3, deadline=2.5, max_status_entries=2)
    assert VerificationLimits.from_env({}) == VerificationLimits()


@pytest.mark.parametrize("value", ["0", "-1", "ten", "nan", "inf"])
def test_limits_from_env_rejects_bad_values(value: str) -> None:
    with pytest.raises(SettingsError):
        VerificationLimits.from_env({"SIJIL_VERIFY_DEADLINE": value})
