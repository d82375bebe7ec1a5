"""Wallet offers and exchanges (VC-API, OpenID4VCI).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:00:00

``wallet_offers`` (one offer of awards to a wallet), ``wallet_nonces`` (OpenID4VCI
``c_nonce`` values, hashed) and ``wallet_deliveries`` (what each wallet received); see
:mod:`issuer.wallet.models`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the wallet tables."""
    op.create_table(
        "wallet_offers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("award_ids", sa.JSON(), nullable=False),
        sa.Column("bind_holder", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pre_authorized_code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=True),
        sa.Column("tx_code_attempts", sa.Integer(), nullable=False),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("access_token_hash", sa.String(length=64), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("configurations_delivered", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_wallet_offers_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_offers")),
        sa.UniqueConstraint(
            "pre_authorized_code_hash", name=op.f("uq_wallet_offers_pre_authorized_code_hash")
        ),
        sa.UniqueConstraint("access_token_hash", name=op.f("uq_wallet_offers_access_token_hash")),
    )
    op.create_index(
        op.f("ix_wallet_offers_learner_id"), "wallet_offers", ["learner_id"], unique=False
    )
    op.create_table(
        "wallet_nonces",
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("value_hash", name=op.f("pk_wallet_nonces")),
    )
    op.create_index(
        op.f("ix_wallet_nonces_expires_at"), "wallet_nonces", ["expires_at"], unique=False
    )
    op.create_table(
        "wallet_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("award_id", sa.String(length=36), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=2000), nullable=True),
        sa.Column("credential_id", sa.String(length=700), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_wallet_deliveries_award_id_awards")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["wallet_offers.id"],
            name=op.f("fk_wallet_deliveries_offer_id_wallet_offers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_deliveries")),
    )
    op.create_index(
        op.f("ix_wallet_deliveries_award_id"), "wallet_deliveries", ["award_id"], unique=False
    )
    op.create_index(
        op.f("ix_wallet_deliveries_offer_id"), "wallet_deliveries", ["offer_id"], unique=False
    )


def downgrade() -> None:
    """Drop the wallet tables."""
    op.drop_index(op.f("ix_wallet_deliveries_offer_id"), table_name="wallet_deliveries")
    op.drop_index(op.f("ix_wallet_deliveries_award_id"), table_name="wallet_deliveries")
    op.drop_table("wallet_deliveries")
    op.drop_index(op.f("ix_wallet_nonces_expires_at"), table_name="wallet_nonces")
    op.drop_table("wallet_nonces")
    op.drop_index(op.f("ix_wallet_offers_learner_id"), table_name="wallet_offers")
    op.drop_table("wallet_offers")
