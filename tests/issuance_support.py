"""Shared by the issuance-run tests: a learner's complete progress, an allocator that fails on
chosen calls, and the relying party's check of every award."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from issuer.domain.progress import ProgressEvent
from issuer.services.awards import AwardView
from issuer.services.issuance import own_issuers
from issuer.services.runtime import Runtime
from issuer.services.status import ListAllocator, OwnStatusListFetcher, StatusAllocationError
from verifier.report import verify_credential

#: The demo programme's units: a COC and a COA of each, then the MMS.
UNITS = ("DAF101", "DVZ102", "PYD103")


def finish(learner: str, units: Sequence[str] = UNITS) -> list[ProgressEvent]:
    """Everything a learner needs for a COC and a COA of each unit (and so the MMS)."""
    events: list[ProgressEvent] = []
    for mc in units:
        events += [ProgressEvent(learner, mc, "material_completed", f"{mc}-M{i}") for i in (1, 2)]
        events += [
            ProgressEvent(learner, mc, "assessment_result", f"{mc}-{a}", Decimal(80))
            for a in ("QZ", "PJ")
        ]
    return events


def verify_all(rt: Runtime, awards: Sequence[AwardView]) -> None:
    """Every award verifies as a relying party sees it, status read from our published lists."""
    with rt.reading() as session:
        own_lists = OwnStatusListFetcher(rt, session)
        for award in awards:
            report = verify_credential(
                award.credential(), resolver=rt.resolver, fetcher=own_lists, trust=own_issuers(rt)
            )
            assert report.verified, report.to_dict()["errors"]
            assert report.checks["status"].status == "passed"


class FailingAllocator:
    """The real allocator, raising ``STATUS_ALLOCATION_FAILED`` on the calls numbered in
    ``fail_on`` (counted from 1): a status allocation failure in the middle of a run."""

    def __init__(self, inner: ListAllocator, fail_on: set[int]) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.calls = 0

    def __call__(
        self, session: Session, issuer_id: int, credential_id: str
    ) -> Sequence[Mapping[str, Any]]:
        self.calls += 1
        if self.calls in self.fail_on:
            raise StatusAllocationError("no free index (test)")
        return self.inner(session, issuer_id, credential_id)
