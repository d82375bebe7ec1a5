"""Credentials issued through the VC-API: kept, so their status can change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 17:00:00

``vcapi_credentials``: one row per credential signed through ``POST /credentials/issue`` that
received status entries from the issuer (see :mod:`issuer.db.vcapi`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``vcapi_credentials``."""
    op.create_table(
        "vcapi_credentials",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=700), nullable=True),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("revocation_entry_id", sa.Integer(), nullable=True),
        sa.Column("suspension_entry_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_vcapi_credentials_issuer_id_issuers")
        ),
        sa.ForeignKeyConstraint(
            ["revocation_entry_id"],
            ["status_entries.id"],
            name=op.f("fk_vcapi_credentials_revocation_entry_id_status_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["suspension_entry_id"],
            ["status_entries.id"],
            name=op.f("fk_vcapi_credentials_suspension_entry_id_status_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vcapi_credentials")),
    )
    op.create_index(
        op.f("ix_vcapi_credentials_credential_id"),
        "vcapi_credentials",
        ["credential_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vcapi_credentials_issuer_id"), "vcapi_credentials", ["issuer_id"], unique=False
    )


def downgrade() -> None:
    """Drop ``vcapi_credentials``."""
    op.drop_index(op.f("ix_vcapi_credentials_issuer_id"), table_name="vcapi_credentials")
    op.drop_index(op.f("ix_vcapi_credentials_credential_id"), table_name="vcapi_credentials")
    op.drop_table("vcapi_credentials")
