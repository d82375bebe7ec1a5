"""Tables of the staff console: staff accounts and their one-time sign-in links.

A sign-in link's secret is stored only as its SHA-256 (like API tokens); ``used_at`` makes it
single use. Extra indexes serve the console at scale: awards newest first (keyset pagination
over ``(issued_at, id)``, covering the dashboard's counts), recent status changes, the MMS that
embed an award, and an award's status history from the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import AuditEntry, Award, AwardComponent, Base

__all__ = [
    "AUDIT_TARGET_INDEX",
    "AWARDS_ISSUED_INDEX",
    "AWARDS_STATUS_INDEX",
    "COMPONENT_INDEX",
    "SignInLink",
    "StaffUser",
]


class StaffUser(Base):
    """A member of staff who may use the console; ``role`` is one of ``issuer.console.roles``."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class SignInLink(Base):
    """A one-time sign-in link: SHA-256 of the secret, expiry, and when it was used."""

    __tablename__ = "staff_sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


#: Awards newest first, keyset-paginated by the console; type and status make it covering for
#: the dashboard's counts per month, type and status.
AWARDS_ISSUED_INDEX = Index(
    "ix_awards_issued_at_id", Award.issued_at, Award.id, Award.award_type, Award.status
)
#: Recent revocations (and suspensions) without a scan.
AWARDS_STATUS_INDEX = Index("ix_awards_status_changed", Award.status, Award.status_changed_at)
#: Which MMS embed an award (the confirmation step, re-issue candidates).
COMPONENT_INDEX = Index("ix_award_components_component", AwardComponent.component_award_id)
#: An award's (or learner's) history from the audit log.
AUDIT_TARGET_INDEX = Index("ix_audit_log_target", AuditEntry.target_type, AuditEntry.target_id)
