"""Where each signing key is in its life, and which issuer a token is limited to.

A key's state (:class:`IssuerKeyState`, one row per ``issuer_keys`` row):

- ``staged``: published in the DID document, not used for signing yet (``keys rotate``); every
  instance gets time to receive the key file before anything is signed with it;
- ``active``: the key the database names for signing (one per issuer; ``IssuerKey.active``
  mirrors it). An instance that does not hold it keeps signing with the newest ``previous``
  key it holds (:func:`issuer.services.issuers.signing_key`);
- ``previous``: signed before, no longer chosen, still published so what it signed verifies;
- ``retired``: withdrawn from the DID document (``keys retire``): proofs naming it no longer
  verify. Never the active key.

:class:`ApiTokenIssuer` limits an API token to one issuer's awards, keys and credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import Base

__all__ = ["KEY_STATES", "ApiTokenIssuer", "IssuerKeyState", "KeyState"]

KeyState = Literal["staged", "active", "previous", "retired"]
KEY_STATES: Final[tuple[KeyState, ...]] = ("staged", "active", "previous", "retired")


class IssuerKeyState(Base):
    """The lifecycle state of one issuer key, with when it entered each state."""

    __tablename__ = "issuer_key_states"

    key_id: Mapped[int] = mapped_column(ForeignKey("issuer_keys.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    staged_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    #: when a newer key took over signing.
    deactivated_at: Mapped[datetime | None]
    #: when the key was withdrawn from the DID document.
    retired_at: Mapped[datetime | None]


class ApiTokenIssuer(Base):
    """An API token that may act only on this issuer's awards, keys and credentials."""

    __tablename__ = "api_token_issuers"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
