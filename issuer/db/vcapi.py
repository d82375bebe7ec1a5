"""Credentials signed through the VC-API (``POST /credentials/issue``), kept so that their
status can change (``POST /credentials/status``).

Only what a status change needs is stored: the credential's ``id`` (the VC-API addresses a
credential by it), the issuer, the status entries the issuer allocated for it, and its
current status. The signed credential itself is the caller's (it is not an award).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import Base

__all__ = ["VcapiCredential"]


class VcapiCredential(Base):
    """One credential signed through the VC-API with status entries allocated by the issuer.

    ``status`` is ``active`` | ``revoked`` | ``suspended``. ``credential_id`` is ``None`` for a
    credential sent without an ``id`` (its status cannot be changed through the VC-API).
    Several rows may share a ``credential_id`` (the same credential issued twice); a status
    change applies to all of them.
    """

    __tablename__ = "vcapi_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    credential_id: Mapped[str | None] = mapped_column(String(700), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    revocation_entry_id: Mapped[int | None] = mapped_column(ForeignKey("status_entries.id"))
    suspension_entry_id: Mapped[int | None] = mapped_column(ForeignKey("status_entries.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime]
    status_changed_at: Mapped[datetime | None]
