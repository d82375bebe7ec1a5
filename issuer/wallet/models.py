"""What the wallet channels store: offers, one-time nonces and the copies each wallet received.

Secrets a wallet presents (pre-authorized codes, transaction codes, access tokens, nonces) are
stored as SHA-256 hashes only: a database read does not let anyone redeem an offer. An offer is
the learner's (``learner_id``) and names the awards it delivers (``award_ids``, fixed when it is
made, so an offer for "all my credentials" does not grow later).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from issuer.db.models import Base

__all__ = ["WalletDelivery", "WalletNonce", "WalletOffer"]


class WalletOffer(Base):
    """One offer of one or more awards to a wallet, over VC-API exchanges and OpenID4VCI.

    ``id`` is the unguessable interaction/exchange id. ``challenge`` is the DIDAuth challenge
    of a holder-bound exchange. ``completed_at`` is set when the VC-API exchange delivered;
    ``code_used_at`` when the pre-authorized code was redeemed for ``access_token_hash``;
    ``configurations_delivered`` lists the OpenID4VCI configurations already delivered with it.
    """

    __tablename__ = "wallet_offers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    award_ids: Mapped[list[str]]
    bind_holder: Mapped[bool]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    challenge: Mapped[str] = mapped_column(String(64))
    completed_at: Mapped[datetime | None]
    pre_authorized_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    tx_code_attempts: Mapped[int] = mapped_column(default=0)
    code_used_at: Mapped[datetime | None]
    access_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    access_token_expires_at: Mapped[datetime | None]
    configurations_delivered: Mapped[list[str]]


class WalletNonce(Base):
    """An OpenID4VCI ``c_nonce`` (hashed): single use, short-lived."""

    __tablename__ = "wallet_nonces"

    value_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class WalletDelivery(Base):
    """A credential a wallet received: the award's original, or a holder-bound signed copy.

    A copy shares the award's status entry, so revoking the award revokes every copy.
    ``holder`` is the wallet's DID (``None`` for an unbound delivery of the original).
    """

    __tablename__ = "wallet_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("wallet_offers.id"), index=True)
    award_id: Mapped[str] = mapped_column(ForeignKey("awards.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(32))
    holder: Mapped[str | None] = mapped_column(String(2000))
    credential_id: Mapped[str] = mapped_column(String(700))
    credential: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime]
