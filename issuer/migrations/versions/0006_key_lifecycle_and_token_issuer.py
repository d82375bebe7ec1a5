"""Key lifecycle (staged, active, retired) and tokens scoped to one issuer.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:00:00

``issuer_key_states`` gives every signing key a state (``staged``: published, not signing yet;
``active``; ``previous``: no longer signing, still published; ``retired``: withdrawn from the
DID document) with its timestamps. Existing keys become ``active`` (the one marked active) or
``previous`` (rotated out before: they were published, and stay so). ``api_token_issuers``
limits a token to one issuer. Downgrading drops both: staged and retired keys are then plain
published non-signing keys again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_key_states",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["issuer_keys.id"], name=op.f("fk_issuer_key_states_key_id_issuer_keys")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_issuer_key_states")),
    )
    op.execute(
        "INSERT INTO issuer_key_states (key_id, state, staged_at, activated_at, deactivated_at)"
        " SELECT id, CASE WHEN active THEN 'active' ELSE 'previous' END, created_at, created_at,"
        " retired_at FROM issuer_keys"
    )
    op.create_table(
        "api_token_issuers",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_api_token_issuers_issuer_id_issuers")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_api_token_issuers_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_token_issuers")),
    )
    with op.batch_alter_table("api_token_issuers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_token_issuers_issuer_id"), ["issuer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token_issuers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_issuers_issuer_id"))
    op.drop_table("api_token_issuers")
    op.drop_table("issuer_key_states")
