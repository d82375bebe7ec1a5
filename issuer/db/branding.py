"""Each issuer's brand (colours, Malay display name, logo bytes); rules in
:mod:`issuer.domain.branding`.

One optional row per issuer: an issuer without a row shows the default colours, its ``name``
and no logo. The logo is stored here (checked, at most 100 KiB) and served by the issuer at
``/issuers/<slug>/logo``, so rendering a page, certificate or badge never fetches anything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import Base

__all__ = ["IssuerBrandRow"]


class IssuerBrandRow(Base):
    """The brand of one issuer."""

    __tablename__ = "issuer_brands"

    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), primary_key=True)
    name_ms: Mapped[str | None] = mapped_column(String(300))
    primary_colour: Mapped[str | None] = mapped_column(String(7))
    accent_colour: Mapped[str | None] = mapped_column(String(7))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_media_type: Mapped[str | None] = mapped_column(String(40))
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
