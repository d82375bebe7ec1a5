"""Issuer branding: colours, Malay display name and a stored logo.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:00:00

``issuer_brands`` holds at most one row per issuer (see :mod:`issuer.db.branding`); issuers
without one keep the default look. Downgrading drops the table (and the stored logos); an
issuer's ``image`` column, which may point at the served logo, is left as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``issuer_brands``."""
    op.create_table(
        "issuer_brands",
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("name_ms", sa.String(length=300), nullable=True),
        sa.Column("primary_colour", sa.String(length=7), nullable=True),
        sa.Column("accent_colour", sa.String(length=7), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_media_type", sa.String(length=40), nullable=True),
        sa.Column("logo_sha256", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_issuer_brands_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_issuer_brands")),
    )


def downgrade() -> None:
    """Drop ``issuer_brands``."""
    op.drop_table("issuer_brands")
