"""Reading issued awards: list, show, the verbatim credential (exports: :mod:`issuer.exports`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from issuer.db.models import Award, Issuer, Learner
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime, as_utc

__all__ = ["AwardView", "award_view", "get_award", "list_awards"]


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
    )


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
        return [award_view(a, ext, slug) for a, ext, slug in session.execute(query)]


def get_award(rt: Runtime, award_id: str) -> AwardView:
    """An award by its UUID or its credential id URL. Raises ``NOT_FOUND``."""
    key = award_id.rstrip("/").rsplit("/", 1)[-1]
    with rt.reading() as session:
        found = session.execute(_query().where(Award.id == key)).first()
        if found is None:
            raise NotFoundError(f"no award {award_id!r}")
        award, ext, slug = found
        return award_view(award, ext, slug)
