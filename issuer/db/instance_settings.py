"""The instance's own settings, remembered in its database (today: the public base URL).

A name/value table rather than columns: one row per setting, so a later setting needs no
migration. Read and written only through :mod:`issuer.services.instance`.
"""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import Base

__all__ = ["BASE_URL_SETTING", "InstanceSetting"]

#: Name of the row holding the base URL given to ``sijil-issuer init``.
BASE_URL_SETTING = "base_url"


class InstanceSetting(Base):
    """One remembered setting of this issuer instance."""

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
