"""Bitstring Status Lists: published lists, allocated indices, per-issuer suspension switch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 08:20:00

``UNIQUE(list_id, index)`` is what makes index allocation safe with several issuer processes
on one database: a colliding insert fails and the allocator draws again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (with a constant default) on every backend: a batch "move and copy" on
    # SQLite would drop the issuers table, which rows in other tables reference.
    op.add_column(
        "issuers",
        sa.Column("suspension_enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("is_full", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_version", sa.Integer(), nullable=False),
        sa.Column("signed_json", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_status_lists_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
        sa.UniqueConstraint(
            "issuer_id",
            "purpose",
            "sequence",
            name=op.f("uq_status_lists_issuer_id_purpose_sequence"),
        ),
    )
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_lists_issuer_id"), ["issuer_id"], unique=False)
    op.create_table(
        "status_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=700), nullable=True),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["status_lists.id"], name=op.f("fk_status_entries_list_id_status_lists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_entries")),
        sa.UniqueConstraint("list_id", "index", name=op.f("uq_status_entries_list_id_index")),
    )
    with op.batch_alter_table("status_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_entries_credential_id"), ["credential_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("status_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_entries_credential_id"))
    op.drop_table("status_entries")
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_lists_issuer_id"))
    op.drop_table("status_lists")
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_column("suspension_enabled")
