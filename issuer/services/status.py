"""Bitstring Status Lists on the issuer side: allocate, publish, revoke / suspend / unsuspend.

W3C Bitstring Status List v1.0 (BSL). Every credential the issuer signs carries one
``BitstringStatusListEntry`` per enabled purpose: ``revocation`` always, ``suspension`` when
the issuer's ``suspension_enabled`` switch is on (off for new issuers; ``Issuer.
suspension_enabled``). Open Badges 3.0 and CLR 2.0 allow at most one ``credentialStatus``, so
an issuer that turns suspension on issues awards that fail the official OB/CLR JSON Schemas
until OB allows several entries.

Allocation (:class:`ListAllocator`, the runtime's ``status_allocator`` hook): the index is
drawn with :func:`secrets.randbelow` over a list of :data:`LIST_SIZE` (131,072) entries (BSL
section 6.1, herd privacy) and inserted into ``status_entries`` with ``ON CONFLICT DO NOTHING``;
``UNIQUE(list_id, index)`` makes a collision (same draw, or another process's concurrent
draw) insert nothing, and the allocator draws again. Indices are never reused: rows are never
deleted.
When a collision shows the list has :data:`FULL_AT` (half) of its entries taken, it is marked
full and the next credential opens a new list (``UNIQUE(issuer, purpose, sequence)`` settles
two processes opening one at the same time). Half-full keeps the expected draws per
allocation at <= 2 and every list's set bits a small share of a large crowd.

Bits (:func:`change_status`): one transaction locks the awards, then the touched lists' rows
(``SELECT ... FOR UPDATE`` in id order, so concurrent batches queue instead of losing an
update), writes the entries' values, bumps each list's ``version`` and re-signs the list in
the same transaction. A list's published bytes are therefore always those of its last
committed version. :func:`published_list` also re-signs lazily (under the same row lock) when
it finds ``signed_version != version``.

Self-verification: :class:`OwnStatusListFetcher` serves the issuer's own current lists from the
database to the verifier, so a credential is only stored after its freshly allocated indices
read "not revoked / not suspended" in the list the world will fetch.

Signing clock guard: a list's ``validFrom`` is the moment it is signed. A list found signed
later than now (its ``signed_at`` is in the future: it was signed while the clock ran ahead)
counts as stale: it is re-signed when served (:func:`published_list`) and on the next change,
and self-verification signs a current copy in memory, so a status change made under a clock
ahead never stops issuing nor makes verifiers read "not valid until ..." once the clock is
back.

Replacements: a change's answer names the MMS awards embedding the award (``stacked_in``) and,
among them, those now offered for re-issue (``reissue``: an active COA exists for every
component; see :mod:`issuer.services.reissue`).

The suspension switch (:func:`set_suspension_enabled`) decides whether credentials signed from
now on get a ``suspension`` entry; credentials already issued keep the entries they were signed
with (a credential without one can never be suspended, only revoked).

Errors: ``NOT_FOUND`` (award, list, issuer), ``STATUS_TRANSITION_NOT_ALLOWED`` (409: suspend a
revoked award, suspension not enabled, no status entry), ``STATUS_ALLOCATION_FAILED`` (503).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.credentials.text import credential_text
from issuer.db.models import Award, AwardComponent, Issuer, StatusEntry, StatusList
from issuer.db.txmemo import transaction_memo
from issuer.outbox.events import record_status_changed
from issuer.services import audit
from issuer.services.awards import ReissueOffer, reissue_offers
from issuer.services.errors import NotFoundError
from issuer.services.issuers import get_issuer, signing_key
from issuer.services.runtime import Runtime
from keys.dataintegrity import add_proof
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchError, FetchResponse
from verifier import MIN_ENTRIES, Bitstring, encode_list

__all__ = [
    "ACTIONS",
    "CACHE_MAX_AGE",
    "FULL_AT",
    "LIST_SIZE",
    "LIST_TTL_MS",
    "Action",
    "ListAllocator",
    "OwnStatusListFetcher",
    "PublishedList",
    "StatusAllocationError",
    "StatusChange",
    "StatusTransitionError",
    "build_list_credential",
    "change_status",
    "change_status_in",
    "install_status_lists",
    "is_signed_in_future",
    "list_id_from_url",
    "published_list",
    "set_entry_values",
    "set_suspension_enabled",
    "status_list_url",
    "suspension_switches",
]

#: Entries per list: the BSL minimum (section 6.1), 16 KiB of bits.
LIST_SIZE: Final = MIN_ENTRIES
#: Allocated entries at which a list is closed and a new one opened.
FULL_AT: Final = LIST_SIZE // 2
#: Draws before giving up (at half-full the chance of 32 collisions in a row is 2**-32).
MAX_DRAWS: Final = 32
#: ``ttl`` of published lists (BSL section 2.2, milliseconds) and HTTP ``max-age`` (seconds).
LIST_TTL_MS: Final = 60_000
CACHE_MAX_AGE: Final = 60
VC2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"

Action = Literal["revoke", "suspend", "unsuspend"]
ACTIONS: Final[tuple[Action, ...]] = ("revoke", "suspend", "unsuspend")


class StatusAllocationError(SijilError):
    """No free index could be drawn (should never happen: lists close at half-full)."""

    code = "STATUS_ALLOCATION_FAILED"
    title = "Could not allocate a status list index"
    http_status = 503


class StatusTransitionError(SijilError):
    """The status change is not allowed (e.g. suspending a revoked award)."""

    code = "STATUS_TRANSITION_NOT_ALLOWED"
    title = "Status change not allowed"
    http_status = 409


def status_list_url(base_url: str, list_id: int) -> str:
    """The stable URL of a list: ``{BASE}/status/<id>``."""
    return f"{base_url}/status/{list_id}"


def list_id_from_url(base_url: str, url: str) -> int | None:
    """The list id of one of our list URLs, else ``None``."""
    prefix = f"{base_url}/status/"
    rest = url[len(prefix) :] if url.startswith(prefix) else ""
    return int(rest) if rest.isdigit() and len(rest) < 12 else None


def _entry_json(url: str, purpose: str, index: int) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def build_list_credential(
    url: str, issuer_did: str, purpose: str, bits: Bitstring, *, at: datetime
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (BSL section 2.2), VC 2.0 context."""
    return {
        "@context": [VC2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(bits),
            "ttl": LIST_TTL_MS,
        },
    }


def is_signed_in_future(row: StatusList, now: datetime) -> bool:
    """Whether ``row`` was signed at a moment later than ``now`` (a clock that ran ahead)."""
    signed_at = row.signed_at
    if signed_at is None:
        return False
    if signed_at.tzinfo is None:  # SQLite keeps no offset; we store UTC
        signed_at = signed_at.replace(tzinfo=UTC)
    return signed_at > now


def _is_current(row: StatusList, now: datetime) -> bool:
    """The stored signature is of the current bits and not dated after ``now``."""
    return (
        row.signed_json is not None
        and bool(row.etag)
        and row.signed_version == row.version
        and not is_signed_in_future(row, now)
    )


def _bits(session: Session, row: StatusList) -> Bitstring:
    indices = session.scalars(
        select(StatusEntry.index).where(StatusEntry.list_id == row.id, StatusEntry.value != 0)
    )
    return Bitstring.zeros(row.size).with_bits(indices)


def _signed_list(rt: Runtime, session: Session, row: StatusList, at: datetime) -> str:
    """The list's current bits, signed by its issuer's current key; compact JSON text."""
    slug = session.scalar(select(Issuer.slug).where(Issuer.id == row.issuer_id))
    if slug is None:
        raise NotFoundError(f"no issuer #{row.issuer_id}")
    view = get_issuer(rt, slug)
    key = signing_key(rt, view)
    unsigned = build_list_credential(
        status_list_url(rt.settings.base_url, row.id),
        view.did,
        row.purpose,
        _bits(session, row),
        at=at,
    )
    signed = add_proof(
        unsigned,
        key,
        cryptosuite=view.cryptosuite,
        verification_method=key.id or view.verification_method,
        created=at,
    )
    return credential_text(signed)


def _store_signed(rt: Runtime, session: Session, row: StatusList) -> None:
    """Re-sign ``row`` (the caller holds its row lock) and mark it current."""
    at = rt.now()
    text = _signed_list(rt, session, row, at)
    row.signed_json = text
    row.signed_version = row.version
    row.signed_at = at
    row.etag = '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40] + '"'


@dataclass
class _Memo:
    """What :class:`ListAllocator` remembers for one transaction (:mod:`issuer.db.txmemo`:
    forgotten on any rollback, which may have undone a list it names)."""

    suspension: dict[int, bool] = dataclasses.field(default_factory=dict)
    open_lists: dict[tuple[int, str], StatusList] = dataclasses.field(default_factory=dict)


def _memo(session: Session) -> _Memo:
    return transaction_memo(session, "status_allocation", _Memo)


_ENTRY_INSERTS: dict[str, Any] = {}


def _entry_insert(session: Session) -> Any:
    """``INSERT INTO status_entries ... ON CONFLICT (list_id, index) DO NOTHING RETURNING id``
    (a row back: recorded; none: the index was taken), built once per dialect (values are
    passed as parameters). ``RETURNING``, not the cursor's ``rowcount``: not every driver
    reports it for this statement."""
    name = session.get_bind().dialect.name
    stmt = _ENTRY_INSERTS.get(name)
    if stmt is None:
        insert = postgresql.insert if name == "postgresql" else sqlite.insert
        entries = cast("Table", StatusEntry.__table__)
        stmt = (
            insert(entries)
            .on_conflict_do_nothing(index_elements=["list_id", "index"])
            .returning(entries.c.id)
        )
        _ENTRY_INSERTS[name] = stmt
    return stmt


class ListAllocator:
    """The runtime's ``status_allocator``: status entries for a credential about to be signed.

    Runs inside the award's transaction (an index is committed with its credential or not at
    all). ``draw`` is injectable for tests (default :func:`secrets.randbelow`).

    Within one transaction the issuer's suspension switch and each purpose's open list are read
    once (a transaction issues all the awards due to one learner); a rollback, a savepoint's
    included, forgets them. An entry is recorded with ``INSERT ... ON CONFLICT DO NOTHING``: a
    taken index (our draw, or another process's concurrent one) inserts no row and is drawn
    again, with no savepoint and without aborting the transaction.
    """

    def __init__(
        self,
        rt: Runtime,
        *,
        draw: Callable[[int], int] = secrets.randbelow,
        size: int = LIST_SIZE,
        full_at: int = FULL_AT,
    ) -> None:
        self._rt = rt
        self._draw = draw
        self._size = size
        self._full_at = full_at

    def __call__(
        self, session: Session, issuer_id: int, credential_id: str
    ) -> Sequence[Mapping[str, Any]]:
        """One entry per enabled purpose. Raises ``STATUS_ALLOCATION_FAILED``."""
        memo = _memo(session)
        enabled = memo.suspension.get(issuer_id)
        if enabled is None:
            enabled = session.scalar(
                select(Issuer.suspension_enabled).where(Issuer.id == issuer_id)
            )
            if enabled is None:
                raise NotFoundError(f"no issuer #{issuer_id}")
            memo.suspension[issuer_id] = enabled
        purposes = ("revocation", "suspension") if enabled else ("revocation",)
        entries: list[Mapping[str, Any]] = []
        for purpose in purposes:
            list_id, index = self.allocate(session, issuer_id, purpose, credential_id or None)
            url = status_list_url(self._rt.settings.base_url, list_id)
            entries.append(_entry_json(url, purpose, index))
        return entries

    def allocate(
        self, session: Session, issuer_id: int, purpose: str, credential_id: str | None
    ) -> tuple[int, int]:
        """Draw and record a fresh ``(list id, index)``. Raises ``STATUS_ALLOCATION_FAILED``."""
        at = self._rt.now()
        insert = _entry_insert(session)
        for _ in range(MAX_DRAWS):
            row = self._open_list(session, issuer_id, purpose, at)
            if is_signed_in_future(row, at):
                self._resign(session, row.id, at)
            index = self._draw(row.size)
            params = {
                "list_id": row.id,
                "index": index,
                "credential_id": credential_id,
                "value": 0,
                "allocated_at": at,
            }
            if session.execute(insert, params).first() is not None:
                return row.id, index
            self._close_if_full(session, issuer_id, purpose, row.id)
        raise StatusAllocationError(f"no free {purpose} index after {MAX_DRAWS} draws")

    def _resign(self, session: Session, list_id: int, at: datetime) -> None:
        """Signing clock guard: re-sign a list found signed in the future, under its row lock
        (re-read first, so a concurrent change's bits are not overwritten)."""
        row = session.get(StatusList, list_id, with_for_update=True, populate_existing=True)
        if row is not None and not _is_current(row, at):
            _store_signed(self._rt, session, row)

    def _close_if_full(self, session: Session, issuer_id: int, purpose: str, list_id: int) -> None:
        taken = session.scalar(
            select(func.count()).select_from(StatusEntry).where(StatusEntry.list_id == list_id)
        )
        if taken is not None and taken >= self._full_at:
            session.execute(update(StatusList).where(StatusList.id == list_id).values(is_full=True))
            _memo(session).open_lists.pop((issuer_id, purpose), None)

    def _open_list(
        self, session: Session, issuer_id: int, purpose: str, at: datetime
    ) -> StatusList:
        known = _memo(session).open_lists.get((issuer_id, purpose))
        if known is not None:
            return known
        row = self._find_or_open(session, issuer_id, purpose, at)
        _memo(session).open_lists[issuer_id, purpose] = row
        return row

    def _find_or_open(
        self, session: Session, issuer_id: int, purpose: str, at: datetime
    ) -> StatusList:
        while True:
            row = session.scalar(
                select(StatusList)
                .where(
                    StatusList.issuer_id == issuer_id,
                    StatusList.purpose == purpose,
                    StatusList.is_full.is_(False),
                )
                .order_by(StatusList.sequence)
                .limit(1)
                .execution_options(populate_existing=True)
            )
            if row is not None:
                return row
            last = session.scalar(
                select(func.max(StatusList.sequence)).where(
                    StatusList.issuer_id == issuer_id, StatusList.purpose == purpose
                )
            )
            row = StatusList(
                issuer_id=issuer_id,
                purpose=purpose,
                sequence=(last or 0) + 1,
                size=self._size,
                is_full=False,
                version=1,
                signed_version=0,
                created_at=at,
            )
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
                    _store_signed(self._rt, session, row)
            except IntegrityError:
                continue  # another process opened this list first: use theirs
            return row


class OwnStatusListFetcher:
    """A Fetcher serving our own current status lists from ``session`` (self-verification).

    A list whose stored signature is stale is signed in memory (not stored: the caller does
    not hold the list's row lock). Any other URL is ``FETCH_ERROR``: the issuer never goes to
    the network to check its own credentials.
    """

    def __init__(self, rt: Runtime, session: Session) -> None:
        self._rt = rt
        self._session = session
        self._texts: dict[str, str] = {}

    def _text(self, url: str) -> str:
        if url in self._texts:
            return self._texts[url]
        list_id = list_id_from_url(self._rt.settings.base_url, url)
        row = None if list_id is None else self._session.get(StatusList, list_id)
        if row is None:
            raise FetchError(f"{url} is not one of this issuer's status lists", url=url)
        if row.signed_json is not None and _is_current(row, self._rt.now()):
            text = row.signed_json
        else:
            text = _signed_list(self._rt, self._session, row, self._rt.now())
        self._texts[url] = text
        return text

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The parsed list credential."""
        return json.loads(self._text(url))

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The list credential's bytes."""
        body = self._text(url).encode("utf-8")
        headers = {"content-type": "application/vc+ld+json"}
        return FetchResponse(url=url, status=200, headers=headers, body=body)


@dataclass(frozen=True)
class PublishedList:
    """A signed list as served: exact bytes and their ETag."""

    list_id: int
    body: bytes
    etag: str


def published_list(rt: Runtime, list_id: int) -> PublishedList:
    """The current signed list ``list_id``, re-signed first if a change is not yet signed or
    the stored signature is dated in the future (signing clock guard).

    Raises ``NOT_FOUND``.
    """
    with rt.reading() as session:
        row = session.get(StatusList, list_id)
        if row is None:
            raise NotFoundError(f"no status list {list_id}")
        if row.signed_json is not None and row.etag and _is_current(row, rt.now()):
            return PublishedList(list_id, row.signed_json.encode("utf-8"), row.etag)
    with rt.transaction() as session:
        row = session.get(StatusList, list_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no status list {list_id}")
        if not _is_current(row, rt.now()):
            _store_signed(rt, session, row)
        return PublishedList(list_id, (row.signed_json or "").encode("utf-8"), row.etag or "")


@dataclass(frozen=True)
class StatusChange:
    """What one status operation did to one award."""

    award_id: str
    credential_id: str
    action: Action
    before: str
    after: str
    #: MMS awards that embed this award (a COA): they now fail the verifier's stacking check.
    stacked_in: tuple[str, ...] = ()
    #: MMS awards (among ``stacked_in``, or this one) the issuer now offers to re-issue.
    reissue: tuple[ReissueOffer, ...] = ()

    @property
    def changed(self) -> bool:
        """``False`` for an idempotent repeat (revoking a revoked award)."""
        return self.before != self.after

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.award_id,
            "credentialId": self.credential_id,
            "action": self.action,
            "before": self.before,
            "status": self.after,
            "changed": self.changed,
            "stackedIn": list(self.stacked_in),
            "reissue": [o.to_dict() for o in self.reissue],
        }


def set_entry_values(
    rt: Runtime, session: Session, changes: Sequence[tuple[StatusEntry, int]], *, at: datetime
) -> None:
    """Write each entry's new bit, then bump and re-sign every list touched, inside the
    caller's write transaction. The lists' rows are locked in id order first, so concurrent
    changes queue instead of losing an update (the VC-API status route's core)."""
    list_ids = sorted({entry.list_id for entry, _ in changes})
    lists = list(
        session.scalars(
            select(StatusList)
            .where(StatusList.id.in_(list_ids))
            .order_by(StatusList.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    for entry, value in changes:
        entry.value = value
        entry.changed_at = at
    session.flush()
    for row in lists:
        row.version += 1
        _store_signed(rt, session, row)


def _transition(award: Award, action: Action) -> tuple[str, str, int]:
    """(new status, purpose whose bit changes, new bit) or raises; pure."""
    status = award.status
    if action == "revoke":
        return "revoked", "revocation", 1
    if status == "revoked":
        raise StatusTransitionError(f"award {award.id} is revoked; it cannot be {action}ed")
    if action == "suspend":
        return "suspended", "suspension", 1
    return "active", "suspension", 0


def change_status(
    rt: Runtime, award_ids: Sequence[str], action: Action, *, reason: str, actor: str
) -> list[StatusChange]:
    """Revoke, suspend or unsuspend awards (UUIDs or credential URLs), all or none.

    Idempotent: an award already in the target state is reported ``changed=False`` and not
    audited again. Each change names the MMS awards that embed the award (``stacked_in``):
    revoking or suspending a COA makes them fail the verifier's stacking check. Each change is
    audited (``award.revoke`` / ``award.suspend`` / ``award.unsuspend``, with the reason) and
    its lists are re-signed before commit. Raises
    ``NOT_FOUND``, ``MALFORMED_VALUE_ERROR`` (no award, empty reason, unknown action) and
    ``STATUS_TRANSITION_NOT_ALLOWED``.
    """
    with rt.transaction() as session:
        return change_status_in(rt, session, award_ids, action, reason=reason, actor=actor)


def change_status_in(
    rt: Runtime,
    session: Session,
    award_ids: Sequence[str],
    action: Action,
    *,
    reason: str,
    actor: str,
) -> list[StatusChange]:
    """:func:`change_status` inside the caller's write transaction ``session`` (the caller
    commits; the re-issue service revokes a superseded MMS and stores its successor in one
    transaction). Same contract and errors."""
    if action not in ACTIONS:
        raise MalformedValueError(f"unknown status action {action!r}", pointer="/action")
    if not reason.strip():
        raise MalformedValueError("a reason is required", pointer="/reason")
    keys = sorted({a.rstrip("/").rsplit("/", 1)[-1] for a in award_ids})
    if not keys:
        raise MalformedValueError("no award given", pointer="/awards")
    at = rt.now()
    awards = list(
        session.scalars(
            select(Award)
            .where(Award.id.in_(keys))
            .order_by(Award.id)
            .with_for_update()
            .execution_options(populate_existing=True)  # re-read what the lock now guards
        )
    )
    missing = sorted(set(keys) - {a.id for a in awards})
    if missing:
        raise NotFoundError(f"no award {', '.join(missing)}")
    stacked: dict[str, list[str]] = {}
    for mms_id, coa_id in session.execute(
        select(AwardComponent.award_id, AwardComponent.component_award_id)
        .where(AwardComponent.component_award_id.in_(keys))
        .order_by(AwardComponent.award_id)
    ):
        stacked.setdefault(coa_id, []).append(mms_id)
    plan: list[tuple[Award, str, str, int]] = []
    changes: list[StatusChange] = []
    for award in awards:
        after, purpose, value = _transition(award, action)
        changes.append(
            StatusChange(
                award.id,
                award.credential_id,
                action,
                award.status,
                after,
                tuple(stacked.get(award.id, ())),
            )
        )
        if award.status != after:
            plan.append((award, after, purpose, value))
    if not plan:
        return _with_offers(session, awards, changes)
    wanted = {(a.credential_id, purpose) for a, _, purpose, _ in plan}
    found = session.execute(
        select(StatusEntry, StatusList.purpose)
        .join(StatusList, StatusList.id == StatusEntry.list_id)
        .where(StatusEntry.credential_id.in_([a.credential_id for a, *_ in plan]))
    ).all()
    entries = {
        (e.credential_id, purpose): e
        for e, purpose in found
        if (e.credential_id, purpose) in wanted
    }
    for award, _, purpose, _ in plan:
        if (award.credential_id, purpose) not in entries:
            raise StatusTransitionError(
                f"award {award.id} has no {purpose} status entry, so it cannot be {action}ed"
            )
    list_ids = sorted({e.list_id for e in entries.values()})
    lists = {
        row.id: row
        for row in session.scalars(
            select(StatusList)
            .where(StatusList.id.in_(list_ids))
            .order_by(StatusList.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    for award, after, purpose, value in plan:
        entry = entries[(award.credential_id, purpose)]
        entry.value = value
        entry.changed_at = at
        before = award.status
        award.status = after
        award.status_changed_at = at
        award.status_reason = reason
        audit.record(
            session,
            at=at,
            actor=actor,
            action=f"award.{action}",
            target_type="award",
            target_id=award.id,
            detail={
                "reason": reason,
                "before": before,
                "status": after,
                "statusList": status_list_url(rt.settings.base_url, entry.list_id),
                "statusListIndex": entry.index,
            },
        )
        record_status_changed(session, award.id, before=before, after=after, reason=reason, at=at)
    session.flush()
    for row in lists.values():
        row.version += 1
        _store_signed(rt, session, row)
    return _with_offers(session, awards, changes)


def _with_offers(
    session: Session, awards: Sequence[Award], changes: list[StatusChange]
) -> list[StatusChange]:
    """Attach the re-issue offers now open for each change's MMS awards."""
    mms_of = {a.id: a.award_type == "MMS" for a in awards}
    wanted = {
        c.award_id: set(c.stacked_in) | ({c.award_id} if mms_of[c.award_id] else set())
        for c in changes
    }
    every = set().union(*wanted.values()) if wanted else set()
    if not every:
        return changes
    offers = {o.award_id: o for o in reissue_offers(session, every)}
    return [
        dataclasses.replace(
            c, reissue=tuple(offers[m] for m in sorted(wanted[c.award_id]) if m in offers)
        )
        for c in changes
    ]


def _issuer_row(session: Session, slug: str | None) -> Issuer:
    query = select(Issuer).where(Issuer.slug == slug if slug else Issuer.is_default.is_(True))
    row = session.scalars(query.order_by(Issuer.id).limit(1)).first()
    if row is None:
        raise NotFoundError(f"no issuer {slug!r}" if slug else "no default issuer")
    return row


def set_suspension_enabled(rt: Runtime, slug: str | None, enabled: bool, *, actor: str) -> bool:
    """Switch an issuer's ``suspension`` status entries on or off (``None``: default issuer).

    Applies only to credentials signed from now on: issued credentials keep the status entries
    they were signed with (one without a ``suspension`` entry can only be revoked; one with it
    can still be suspended after the switch is turned off). Idempotent: a switch already in
    that position is not audited again; a change is audited as ``issuer.suspension``. Returns
    the new value. Raises ``NOT_FOUND``.
    """
    with rt.transaction() as session:
        row = _issuer_row(session, slug)
        if row.suspension_enabled != enabled:
            audit.record(
                session,
                at=rt.now(),
                actor=actor,
                action="issuer.suspension",
                target_type="issuer",
                target_id=row.slug,
                detail={"before": row.suspension_enabled, "suspensionEnabled": enabled},
            )
            row.suspension_enabled = enabled
        return row.suspension_enabled


def suspension_switches(rt: Runtime) -> dict[str, bool]:
    """Each issuer's suspension switch, by slug."""
    with rt.reading() as session:
        return {
            slug: bool(enabled)
            for slug, enabled in session.execute(select(Issuer.slug, Issuer.suspension_enabled))
        }


def install_status_lists(rt: Runtime) -> Runtime:
    """Wire :class:`ListAllocator` as ``rt.status_allocator``; returns ``rt``."""
    rt.status_allocator = ListAllocator(rt)
    return rt
