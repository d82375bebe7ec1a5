"""The append-only audit log: who did what to which target, when.

Every issuance, key change and admin write calls :func:`record` inside the same transaction as
the change it describes, so the log and the state never disagree. Entries are never updated or
deleted (ORM guard in :mod:`issuer.db.models`, triggers in the migration).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.db.models import AuditEntry
from issuer.services.runtime import Runtime, as_utc

__all__ = ["AuditView", "entry", "list_audit", "record"]


@dataclass(frozen=True)
class AuditView:
    """One audit entry, read-only."""

    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    detail: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "targetType": self.target_type,
            "targetId": self.target_id,
            "detail": dict(self.detail),
        }


def entry(
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry's ``audit_log`` row (for :func:`record`, or a multi-row insert)."""
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "detail": dict(detail or {}),
    }


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry in ``session``'s transaction (actions like ``award.issue``,
    ``key.rotate``, ``issuer.create``, ``token.create``, ``learner.upsert``)."""
    session.add(
        AuditEntry(
            **entry(
                at=at,
                actor=actor,
                action=action,
                target_type=target_type,
                target_id=target_id,
                detail=detail,
            )
        )
    )


def list_audit(
    rt: Runtime, *, action: str | None = None, limit: int = 100, offset: int = 0
) -> list[AuditView]:
    """Newest first, optionally only one ``action``."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    with rt.reading() as session:
        return [
            AuditView(e.id, as_utc(e.at), e.actor, e.action, e.target_type, e.target_id, e.detail)
            for e in session.scalars(query)
        ]
