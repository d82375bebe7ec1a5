"""Transactional outbox of domain events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 17:00:00

``outbox_events`` holds domain events written in the transaction of the change they announce
(unique ``key``: an event is stored once however often its change is re-run), with the worker's
delivery columns (lease, backoff, subscribers done, dead letter). ``outbox_batch_awards`` records
the awards each batch issued, so a retried request reports all of them. See
:mod:`issuer.outbox.models`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two outbox tables."""
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("batch", sa.String(length=300), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("delivered_to", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_events_key")),
    )
    op.create_index(
        "ix_outbox_events_due", "outbox_events", ["done_at", "failed_at", "available_at"]
    )
    op.create_index(op.f("ix_outbox_events_batch"), "outbox_events", ["batch"])
    op.create_table(
        "outbox_batch_awards",
        sa.Column("batch", sa.String(length=300), nullable=False),
        sa.Column("award_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["awards.id"],
            name=op.f("fk_outbox_batch_awards_award_id_awards"),
        ),
        sa.PrimaryKeyConstraint("batch", "award_id", name=op.f("pk_outbox_batch_awards")),
    )


def downgrade() -> None:
    """Drop the outbox tables (undelivered events are lost: run the worker first)."""
    op.drop_table("outbox_batch_awards")
    op.drop_index(op.f("ix_outbox_events_batch"), table_name="outbox_events")
    op.drop_index("ix_outbox_events_due", table_name="outbox_events")
    op.drop_table("outbox_events")
