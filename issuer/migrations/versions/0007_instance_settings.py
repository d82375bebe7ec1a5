"""Instance settings remembered in the database (base URL).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:00:00

``instance_settings`` holds one row per setting the instance remembers across commands;
``sijil-issuer init`` stores the base URL there, so commands run later without
``SIJIL_BASE_URL`` issue credentials under the URL the instance was created with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``instance_settings``."""
    op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_settings")),
    )


def downgrade() -> None:
    """Drop ``instance_settings`` (the base URL is then taken from the environment again)."""
    op.drop_table("instance_settings")
