"""Read-models of the console's pages, each one or two indexed queries.

Lists are keyset-paginated (awards by ``(issued_at, id)`` newest first, the audit log by
``id``), so the hundredth page costs what the first does with 100,000 awards. Nothing here
writes; changes go through the same services the API uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError
from issuer.console.progressview import (
    McProgress,
    ProgrammeProgress,
    learner_progress_rows,
)
from issuer.db.models import AuditEntry, Award, AwardComponent, Issuer, Learner, Programme
from issuer.outbox.models import OutboxEvent
from issuer.services.audit import AuditView
from issuer.services.catalogue import LearnerView, learner_view
from issuer.services.errors import NotFoundError
from issuer.services.issuance import learner_progress, load_catalogue
from issuer.services.runtime import Runtime, as_utc

__all__ = [
    "PAGE_SIZE",
    "AuditFilter",
    "AwardFilter",
    "AwardRow",
    "Dashboard",
    "LearnerDetail",
    "Page",
    "audit_page",
    "award_history",
    "award_page",
    "dashboard",
    "learner_detail",
    "learner_ids",
    "search_learners",
    "stacked_in",
]

PAGE_SIZE: Final = 50
T = TypeVar("T")
AWARD_TYPES: Final = ("COC", "COA", "MMS")
STATUSES: Final = ("active", "suspended", "revoked")


@dataclass(frozen=True)
class AwardRow:
    """One line of an award list (no credential text: lists stay light)."""

    id: str
    award_type: str
    achievement_code: str
    learner: str
    learner_name: str
    issuer: str
    issued_at: datetime
    status: str
    status_reason: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; ``next_cursor`` is ``None`` on the last page."""

    rows: list[T]
    next_cursor: str | None


def _day(value: str | None, pointer: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise MalformedValueError(f"{value!r} is not a date (YYYY-MM-DD)", pointer=pointer) from exc


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class AwardFilter:
    """Award list filters as the console's query string gives them (empty = any)."""

    award_type: str = ""
    status: str = ""
    issuer: str = ""
    learner: str = ""
    achievement: str = ""
    since: str = ""
    until: str = ""
    #: a programme code: its MMS awards and the COC/COA awards of its components.
    programme: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions. Raises ``MALFORMED_VALUE_ERROR`` for an unknown type, status or a
        bad date."""
        out: list[ColumnElement[bool]] = []
        if self.award_type:
            if self.award_type not in AWARD_TYPES:
                raise MalformedValueError("unknown award type", pointer="/type")
            out.append(Award.award_type == self.award_type)
        if self.status:
            if self.status not in STATUSES:
                raise MalformedValueError("unknown status", pointer="/status")
            out.append(Award.status == self.status)
        if self.issuer:
            out.append(Issuer.slug == self.issuer)
        if self.learner:
            out.append(Learner.external_id == self.learner)
        if self.achievement:
            out.append(Award.achievement_code == self.achievement)
        since, until = _day(self.since, "/since"), _day(self.until, "/until")
        if since is not None:
            out.append(Award.issued_at >= _day_start(since))
        if until is not None:
            out.append(Award.issued_at < _day_start(until + timedelta(days=1)))
        return out


def _award_columns() -> Any:
    return (
        select(
            Award.id,
            Award.award_type,
            Award.achievement_code,
            Learner.external_id,
            Learner.name,
            Issuer.slug,
            Award.issued_at,
            Award.status,
            Award.status_reason,
        )
        .join(Learner, Learner.id == Award.learner_id)
        .join(Issuer, Issuer.id == Award.issuer_id)
    )


def _award_row(r: Any) -> AwardRow:
    return AwardRow(r[0], r[1], r[2], r[3], r[4], r[5], as_utc(r[6]), r[7], r[8])


def _cursor(row: AwardRow, raw: Any) -> str:
    return f"{raw.isoformat() if isinstance(raw, datetime) else raw}|{row.id}"


def _in_programme(session: Session, code: str) -> ColumnElement[bool]:
    """Awards of programme ``code``: its MMS, and COC/COA of its component micro-credentials
    (nothing for an unknown programme)."""
    programme = session.scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        return Award.id.is_(None)
    units = [c.micro_credential.code for c in programme.components]
    return or_(
        Award.programme_id == programme.id,
        and_(Award.award_type.in_(("COC", "COA")), Award.achievement_code.in_(units)),
    )


def award_page(
    rt: Runtime, filters: AwardFilter, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page[AwardRow]:
    """Awards newest first matching ``filters``, ``limit`` per page after ``cursor``.

    Raises ``MALFORMED_VALUE_ERROR`` for bad filters or a bad cursor."""
    query = _award_columns().where(*filters.conditions())
    with rt.reading() as session:
        if filters.programme:
            query = query.where(_in_programme(session, filters.programme))
    if cursor:
        at_text, _sep, award_id = cursor.partition("|")
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError as exc:
            raise MalformedValueError("bad page cursor", pointer="/after") from exc
        query = query.where(tuple_(Award.issued_at, Award.id) < (at, award_id))
    query = query.order_by(Award.issued_at.desc(), Award.id.desc()).limit(limit + 1)
    with rt.reading() as session:
        raw = list(session.execute(query))
    rows = [_award_row(r) for r in raw[:limit]]
    next_cursor = _cursor(rows[-1], raw[limit - 1][6]) if len(raw) > limit else None
    return Page(rows, next_cursor)


def stacked_in(rt: Runtime, award_id: str) -> list[AwardRow]:
    """The MMS awards that embed award ``award_id`` (affected by revoking or suspending it)."""
    query = _award_columns().join(AwardComponent, AwardComponent.award_id == Award.id)
    query = query.where(AwardComponent.component_award_id == award_id)
    with rt.reading() as session:
        return [_award_row(r) for r in session.execute(query)]


def _audit_view(e: AuditEntry) -> AuditView:
    return AuditView(e.id, as_utc(e.at), e.actor, e.action, e.target_type, e.target_id, e.detail)


def award_history(rt: Runtime, award_id: str) -> list[AuditView]:
    """The award's audit entries (issue, revoke, suspend, re-issue...), oldest first."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.target_type == "award", AuditEntry.target_id == award_id)
        .order_by(AuditEntry.id)
    )
    with rt.reading() as session:
        return [_audit_view(e) for e in session.scalars(query)]


@dataclass(frozen=True)
class AuditFilter:
    """Audit log filters (empty = any); ``actor``/``action``/``target`` match a prefix."""

    actor: str = ""
    action: str = ""
    target: str = ""
    since: str = ""
    until: str = ""


def _prefix(column: Any, value: str) -> ColumnElement[bool]:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"{escaped}%", escape="\\")  # type: ignore[no-any-return]


def audit_page(
    rt: Runtime, filters: AuditFilter, *, before: int | None = None, limit: int = PAGE_SIZE
) -> Page[AuditView]:
    """Audit entries newest first matching ``filters``. Raises ``MALFORMED_VALUE_ERROR``."""
    query = select(AuditEntry)
    if filters.actor:
        query = query.where(_prefix(AuditEntry.actor, filters.actor))
    if filters.action:
        query = query.where(_prefix(AuditEntry.action, filters.action))
    if filters.target:
        query = query.where(_prefix(AuditEntry.target_id, filters.target))
    since, until = _day(filters.since, "/since"), _day(filters.until, "/until")
    if since is not None:
        query = query.where(AuditEntry.at >= _day_start(since))
    if until is not None:
        query = query.where(AuditEntry.at < _day_start(until + timedelta(days=1)))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    query = query.order_by(AuditEntry.id.desc()).limit(limit + 1)
    with rt.reading() as session:
        rows = [_audit_view(e) for e in session.scalars(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1].id) if more else None)


def search_learners(rt: Runtime, q: str, *, limit: int = PAGE_SIZE) -> list[LearnerView]:
    """Learners whose student id, e-mail or name contains ``q`` (case-insensitive); an exact
    student id comes first."""
    text = q.strip()
    if not text:
        query = select(Learner).order_by(Learner.id.desc()).limit(limit)
    else:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = (
            select(Learner)
            .where(
                or_(
                    func.lower(Learner.external_id).like(pattern, escape="\\"),
                    func.lower(Learner.email).like(pattern, escape="\\"),
                    func.lower(Learner.name).like(pattern, escape="\\"),
                )
            )
            .order_by((Learner.external_id == text).desc(), Learner.name, Learner.id)
            .limit(limit)
        )
    with rt.reading() as session:
        return [learner_view(r) for r in session.scalars(query)]


@dataclass(frozen=True)
class LearnerDetail:
    """A learner's page: who, progress per micro-credential and programme, awards."""

    learner: LearnerView
    micro_credentials: list[McProgress]
    programmes: list[ProgrammeProgress]
    awards: list[AwardRow]


def learner_detail(rt: Runtime, external_id: str) -> LearnerDetail:
    """Everything the learner page shows. Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        row = session.scalar(select(Learner).where(Learner.external_id == external_id))
        if row is None:
            raise NotFoundError(f"no learner {external_id!r}")
        catalogue = load_catalogue(session)
        progress = learner_progress(session, catalogue, row.id)
        query = _award_columns().where(Award.learner_id == row.id)
        awards = [_award_row(r) for r in session.execute(query.order_by(Award.issued_at, Award.id))]
        view = learner_view(row)
    held: dict[tuple[str, str], str] = {}
    for a in awards:
        if held.get((a.award_type, a.achievement_code)) != "active":
            held[a.award_type, a.achievement_code] = a.status
    mcs, progs = learner_progress_rows(
        list(catalogue.micro_credentials.values()),
        list(catalogue.programmes.values()),
        progress,
        held,
    )
    return LearnerDetail(view, mcs, progs, awards)


@dataclass
class Dashboard:
    """The dashboard's figures."""

    total_awards: int = 0
    #: (month "YYYY-MM", award type, count), newest month first (last twelve months).
    per_month: list[tuple[str, str, int]] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)
    recent_revocations: list[AwardRow] = field(default_factory=list)
    mail_pending: int = 0
    mail_failed: int = 0
    learners: int = 0


def _month_starts(at: datetime, months: int) -> list[datetime]:
    """The first instants of the last ``months`` calendar months up to ``at``, oldest first,
    plus the start of the next month."""
    index = at.year * 12 + at.month - 1
    return [
        datetime(i // 12, i % 12 + 1, 1, tzinfo=UTC) for i in range(index - months + 1, index + 2)
    ]


def dashboard(rt: Runtime, *, months: int = 12) -> Dashboard:
    """Awards per type and month, awards by status, recent revocations, learner mail waiting
    or given up in the outbox.

    One range query per month over the covering ``(issued_at, id, award_type, status)`` index
    (cheaper than grouping by a computed month on either database)."""
    starts = _month_starts(rt.now(), months)
    out = Dashboard()
    with rt.reading() as session:
        for start, end in reversed(list(itertools.pairwise(starts))):
            counts = session.execute(
                select(Award.award_type, func.count())
                .where(Award.issued_at >= start, Award.issued_at < end)
                .group_by(Award.award_type)
                .order_by(Award.award_type)
            )
            for kind, n in counts:
                out.per_month.append((start.strftime("%Y-%m"), str(kind), int(n)))
        for status, n in session.execute(select(Award.status, func.count()).group_by(Award.status)):
            out.by_status[str(status)] = int(n)
        out.total_awards = sum(out.by_status.values())
        query = _award_columns().where(Award.status == "revoked")
        query = query.order_by(Award.status_changed_at.desc()).limit(10)
        out.recent_revocations = [_award_row(r) for r in session.execute(query)]
        out.mail_pending = int(
            session.scalar(
                select(func.count()).where(
                    and_(OutboxEvent.done_at.is_(None), OutboxEvent.failed_at.is_(None))
                )
            )
            or 0
        )
        out.mail_failed = int(
            session.scalar(select(func.count()).where(OutboxEvent.failed_at.is_not(None))) or 0
        )
        out.learners = int(session.scalar(select(func.count()).select_from(Learner)) or 0)
    return out


def learner_ids(rt: Runtime, external_ids: Sequence[str]) -> set[str]:
    """Which of ``external_ids`` are known learners."""
    wanted = sorted(set(external_ids))
    found: set[str] = set()
    with rt.reading() as session:
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            found.update(
                session.scalars(select(Learner.external_id).where(Learner.external_id.in_(part)))
            )
    return found
