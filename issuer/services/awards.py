"""Reading issued awards: list, show, the verbatim credential (exports: :mod:`issuer.exports`).

Also the read side of replacements: which award replaces which (``replaces`` /
``replacedBy``), and the *re-issue offers*: an active MMS that embeds a revoked COA is offered
for re-issue (``POST /awards/<id>/reissue``, :mod:`issuer.services.reissue`) once the learner
holds an active COA for every component it stacks.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from issuer.db.models import Award, AwardComponent, Issuer, Learner
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime, as_utc

__all__ = [
    "AwardView",
    "ReissueOffer",
    "StackCheck",
    "award_issuer",
    "award_view",
    "get_award",
    "list_awards",
    "reissue_href",
    "reissue_offers",
    "stack_checks",
    "with_replacements",
]


def reissue_href(award_id: str) -> str:
    """The admin route that re-issues ``award_id``."""
    return f"/awards/{award_id}/reissue"


@dataclass(frozen=True)
class StackCheck:
    """What an MMS stacks today: its revoked components, and whether each can be replaced.

    ``revoked``: embedded COA awards now revoked; ``replacements``: the learner's active COAs
    for those achievements; ``missing``: achievement codes of embedded COAs for which the
    learner holds no active COA (revoked without replacement, or suspended).
    """

    award_id: str
    learner: str
    achievement_code: str
    status: str
    revoked: tuple[str, ...]
    replacements: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def is_offered(self) -> bool:
        """An active MMS with a revoked component and an active COA for every component."""
        return self.status == "active" and bool(self.revoked) and not self.missing


@dataclass(frozen=True)
class ReissueOffer:
    """The issuer offers to re-issue an MMS: POST ``href`` (scope ``admin``) with a reason."""

    award_id: str
    learner: str
    achievement_code: str
    revoked: tuple[str, ...]
    replacements: tuple[str, ...]

    @property
    def href(self) -> str:
        """Where to POST the re-issue."""
        return reissue_href(self.award_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "award": self.award_id,
            "learner": self.learner,
            "achievement": self.achievement_code,
            "href": self.href,
            "method": "POST",
            "revokedComponents": list(self.revoked),
            "replacements": list(self.replacements),
        }


def stack_checks(session: Session, mms_ids: Iterable[str] | None = None) -> dict[str, StackCheck]:
    """:class:`StackCheck` of each unrevoked MMS embedding a revoked COA (all, or ``mms_ids``).

    An MMS whose components are all unrevoked has no entry.
    """
    mms = aliased(Award)
    part = aliased(Award)
    query = (
        select(
            mms.id, mms.learner_id, mms.achievement_code, mms.status, part.id, part.achievement_code
        )
        .join(AwardComponent, AwardComponent.award_id == mms.id)
        .join(part, part.id == AwardComponent.component_award_id)
        .where(mms.award_type == "MMS", mms.status != "revoked", part.status == "revoked")
        .order_by(mms.issued_at, mms.id, part.id)
    )
    if mms_ids is not None:
        query = query.where(mms.id.in_(sorted(set(mms_ids))))
    heads: dict[str, tuple[int, str, str]] = {}
    revoked: dict[str, list[str]] = {}
    revoked_codes: dict[str, set[str]] = {}
    for mms_id, learner_id, code, status, part_id, part_code in session.execute(query):
        heads[mms_id] = (learner_id, code, status)
        revoked.setdefault(mms_id, []).append(part_id)
        revoked_codes.setdefault(mms_id, set()).add(part_code)
    if not heads:
        return {}
    parts: dict[str, list[str]] = {}
    for mms_id, part_code in session.execute(
        select(AwardComponent.award_id, Award.achievement_code)
        .join(Award, Award.id == AwardComponent.component_award_id)
        .where(AwardComponent.award_id.in_(sorted(heads)))
        .order_by(AwardComponent.award_id, Award.achievement_code)
    ):
        parts.setdefault(mms_id, []).append(part_code)
    learner_ids = sorted({learner_id for learner_id, _, _ in heads.values()})
    active: dict[tuple[int, str], str] = {
        (learner_id, code): award_id
        for learner_id, code, award_id in session.execute(
            select(Award.learner_id, Award.achievement_code, Award.id).where(
                Award.award_type == "COA",
                Award.status == "active",
                Award.learner_id.in_(learner_ids),
            )
        )
    }
    external: dict[int, str] = {
        learner_id: ext
        for learner_id, ext in session.execute(
            select(Learner.id, Learner.external_id).where(Learner.id.in_(learner_ids))
        )
    }
    out: dict[str, StackCheck] = {}
    for mms_id, (learner_id, code, status) in heads.items():
        out[mms_id] = StackCheck(
            award_id=mms_id,
            learner=str(external.get(learner_id, "")),
            achievement_code=code,
            status=status,
            revoked=tuple(revoked[mms_id]),
            replacements=tuple(
                active[(learner_id, c)]
                for c in sorted(revoked_codes[mms_id])
                if (learner_id, c) in active
            ),
            missing=tuple(c for c in parts.get(mms_id, []) if (learner_id, c) not in active),
        )
    return out


def reissue_offers(session: Session, mms_ids: Iterable[str] | None = None) -> list[ReissueOffer]:
    """The re-issue offers among ``mms_ids`` (default: every award), oldest MMS first."""
    return [
        ReissueOffer(c.award_id, c.learner, c.achievement_code, c.revoked, c.replacements)
        for c in stack_checks(session, mms_ids).values()
        if c.is_offered
    ]


@dataclass(frozen=True)
class AwardView:
    """An award and its signed credential exactly as stored."""

    id: str
    credential_id: str
    award_type: str
    achievement_code: str
    learner: str
    issuer: str
    issued_at: datetime
    status: str
    credential_json: str
    #: the award this one replaces, the award that replaces it, the offer to re-issue it.
    replaces: str | None = None
    replaced_by: str | None = None
    reissue: ReissueOffer | None = None
    #: when the status last changed and why (revoked, suspended, superseded).
    status_changed_at: datetime | None = None
    status_reason: str | None = None

    def credential(self) -> dict[str, Any]:
        """The signed credential as a dict (parse of the verbatim text)."""
        value: dict[str, Any] = json.loads(self.credential_json)
        return value

    def to_dict(self, *, include_credential: bool = False) -> dict[str, Any]:
        """JSON form; with ``include_credential`` the signed credential is embedded."""
        out: dict[str, Any] = {
            "id": self.id,
            "credentialId": self.credential_id,
            "awardType": self.award_type,
            "achievement": self.achievement_code,
            "learner": self.learner,
            "issuer": self.issuer,
            "issuedAt": self.issued_at.isoformat(),
            "status": self.status,
        }
        if self.replaces is not None:
            out["replaces"] = self.replaces
        if self.replaced_by is not None:
            out["replacedBy"] = self.replaced_by
        if self.reissue is not None:
            out["reissue"] = self.reissue.to_dict()
        if include_credential:
            out["credential"] = self.credential()
        return out


def award_view(row: Award, learner_external_id: str, issuer_slug: str) -> AwardView:
    """View of an award row."""
    return AwardView(
        id=row.id,
        credential_id=row.credential_id,
        award_type=row.award_type,
        achievement_code=row.achievement_code,
        learner=learner_external_id,
        issuer=issuer_slug,
        issued_at=as_utc(row.issued_at),
        status=row.status,
        credential_json=row.credential_json,
        replaces=row.replaces_id,
        status_changed_at=as_utc(row.status_changed_at) if row.status_changed_at else None,
        status_reason=row.status_reason,
    )


#: Above this many awards, look-ups read every replacement / offer instead of a long ``IN``
#: list (SQLite and PostgreSQL cap bound parameters; replacements are few).
_IN_LIMIT = 500


def with_replacements(session: Session, views: list[AwardView]) -> list[AwardView]:
    """``views`` with ``replaced_by`` and the re-issue offers filled in (two queries)."""
    ids = {v.id for v in views}
    if not ids:
        return views
    query = select(Award.replaces_id, Award.id).order_by(Award.issued_at, Award.id)
    query = query.where(
        Award.replaces_id.in_(sorted(ids))
        if len(ids) <= _IN_LIMIT
        else Award.replaces_id.is_not(None)
    )
    replaced_by = {old: new for old, new in session.execute(query) if old in ids}
    mms = [v.id for v in views if v.award_type == "MMS" and v.status == "active"]
    offers = (
        {o.award_id: o for o in reissue_offers(session, mms if len(mms) <= _IN_LIMIT else None)}
        if mms
        else {}
    )
    return [
        dataclasses.replace(v, replaced_by=replaced_by.get(v.id), reissue=offers.get(v.id))
        if v.id in replaced_by or v.id in offers
        else v
        for v in views
    ]


def _query() -> Select[Award, str, str]:
    return (
        select(Award, Learner.external_id, Issuer.slug)
        .join(Learner, Learner.id == Award.learner_id)
        .join(Issuer, Issuer.id == Award.issuer_id)
    )


def list_awards(
    rt: Runtime,
    *,
    learner: str | None = None,
    award_type: str | None = None,
    status: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[AwardView]:
    """Awards in issue order, filtered by learner (student id), type and status."""
    query = _query().order_by(Award.issued_at, Award.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    if learner is not None:
        query = query.where(Learner.external_id == learner)
    if award_type is not None:
        query = query.where(Award.award_type == award_type)
    if status is not None:
        query = query.where(Award.status == status)
    with rt.reading() as session:
        views = [award_view(a, ext, slug) for a, ext, slug in session.execute(query)]
        return with_replacements(session, views)


def get_award(rt: Runtime, award_id: str) -> AwardView:
    """An award by its UUID or its credential id URL. Raises ``NOT_FOUND``."""
    key = award_id.rstrip("/").rsplit("/", 1)[-1]
    with rt.reading() as session:
        found = session.execute(_query().where(Award.id == key)).first()
        if found is None:
            raise NotFoundError(f"no award {award_id!r}")
        award, ext, slug = found
        return with_replacements(session, [award_view(award, ext, slug)])[0]


def award_issuer(rt: Runtime, award_id: str) -> str | None:
    """The slug of the issuer of award ``award_id`` (UUID or credential URL); ``None`` when
    there is no such award."""
    key = award_id.rstrip("/").rsplit("/", 1)[-1]
    with rt.reading() as session:
        return session.scalar(
            select(Issuer.slug).join(Award, Award.issuer_id == Issuer.id).where(Award.id == key)
        )
