"""Staff accounts and console sessions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:00:00

``staff_users`` (email, role, preferred language) and ``staff_sign_in_links`` (one-time links,
stored as SHA-256 of the secret, single use, short expiry). Indexes keep the console fast with
100,000 awards: awards by ``(issued_at, id, award_type, status)`` (keyset pagination, covering
the dashboard's counts), awards by ``(status, status_changed_at)`` (recent revocations),
``award_components.component_award_id`` (the MMS embedding an award) and the audit log by
``(target_type, target_id)`` (an award's status history).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the staff tables and the console's indexes."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    op.create_table(
        "staff_sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sign_in_links_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_in_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sign_in_links_token_hash")),
    )
    op.create_index(op.f("ix_staff_sign_in_links_staff_id"), "staff_sign_in_links", ["staff_id"])
    op.create_index("ix_awards_issued_at_id", "awards", ["issued_at", "id", "award_type", "status"])
    op.create_index("ix_awards_status_changed", "awards", ["status", "status_changed_at"])
    op.create_index("ix_award_components_component", "award_components", ["component_award_id"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])


def downgrade() -> None:
    """Drop the console's indexes and tables (staff accounts are lost)."""
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_index("ix_award_components_component", table_name="award_components")
    op.drop_index("ix_awards_status_changed", table_name="awards")
    op.drop_index("ix_awards_issued_at_id", table_name="awards")
    op.drop_index(op.f("ix_staff_sign_in_links_staff_id"), table_name="staff_sign_in_links")
    op.drop_table("staff_sign_in_links")
    op.drop_table("staff_users")
