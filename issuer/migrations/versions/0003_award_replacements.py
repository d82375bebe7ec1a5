"""Award replacements: one *unrevoked* award per achievement, and ``awards.replaces_id``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:10:00

The table-level ``UNIQUE(learner_id, award_type, achievement_code)`` counted revoked awards, so
a revoked COA could never be replaced. It becomes the partial unique index
``uq_awards_unrevoked_learner_type_achievement ... WHERE status != 'revoked'`` (SQLite and
PostgreSQL both have partial indexes), and ``replaces_id`` (FK to ``awards``) records which
award a replacement replaces.

SQLite cannot drop a table constraint: the ``awards`` table is rebuilt (batch "move and copy").
Dropping the old ``awards`` runs an implicit ``DELETE FROM awards``, which foreign keys (on for
every connection, see :mod:`issuer.db.engine`) refuse while ``award_components`` references its
rows, and ``PRAGMA foreign_keys`` cannot be switched off inside the migration's transaction. So
``award_components``, the only table referencing ``awards``, is parked in a plain copy for the
rebuild and restored afterwards, all in one transaction (see 0002 for the failure this avoids).
PostgreSQL alters the table in place.

Downgrade restores the table-level constraint; it fails if a learner holds a revoked award and
its replacement (remove the replacements first).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD_UNIQUE = "uq_awards_learner_id_award_type_achievement_code"
_NEW_UNIQUE = "uq_awards_unrevoked_learner_type_achievement"
_KEY = ["learner_id", "award_type", "achievement_code"]
_UNREVOKED = "status != 'revoked'"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _park_components() -> None:
    """Move ``award_components`` rows aside and drop the table (it references ``awards``)."""
    op.execute(
        "CREATE TABLE _sijil_parked_award_components AS "
        "SELECT award_id, component_award_id FROM award_components"
    )
    op.drop_table("award_components")


def _restore_components() -> None:
    """Recreate ``award_components`` exactly as 0001 made it and put its rows back."""
    op.create_table(
        "award_components",
        sa.Column("award_id", sa.String(length=36), nullable=False),
        sa.Column("component_award_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_award_components_award_id_awards")
        ),
        sa.ForeignKeyConstraint(
            ["component_award_id"],
            ["awards.id"],
            name=op.f("fk_award_components_component_award_id_awards"),
        ),
        sa.PrimaryKeyConstraint("award_id", "component_award_id", name=op.f("pk_award_components")),
    )
    op.execute(
        "INSERT INTO award_components (award_id, component_award_id) "
        "SELECT award_id, component_award_id FROM _sijil_parked_award_components"
    )
    op.drop_table("_sijil_parked_award_components")


def upgrade() -> None:
    replaces = sa.Column("replaces_id", sa.String(length=36), nullable=True)
    if _is_sqlite():
        _park_components()
        with op.batch_alter_table("awards", recreate="always") as batch_op:
            batch_op.drop_constraint(_OLD_UNIQUE, type_="unique")
            batch_op.add_column(replaces)
            batch_op.create_foreign_key(
                op.f("fk_awards_replaces_id_awards"), "awards", ["replaces_id"], ["id"]
            )
        _restore_components()
    else:
        op.drop_constraint(_OLD_UNIQUE, "awards", type_="unique")
        op.add_column("awards", replaces)
        op.create_foreign_key(
            op.f("fk_awards_replaces_id_awards"), "awards", "awards", ["replaces_id"], ["id"]
        )
    op.create_index(op.f("ix_awards_replaces_id"), "awards", ["replaces_id"], unique=False)
    op.create_index(
        _NEW_UNIQUE,
        "awards",
        _KEY,
        unique=True,
        sqlite_where=sa.text(_UNREVOKED),
        postgresql_where=sa.text(_UNREVOKED),
    )


def downgrade() -> None:
    op.drop_index(_NEW_UNIQUE, table_name="awards")
    op.drop_index(op.f("ix_awards_replaces_id"), table_name="awards")
    if _is_sqlite():
        _park_components()
        with op.batch_alter_table("awards", recreate="always") as batch_op:
            batch_op.drop_constraint(op.f("fk_awards_replaces_id_awards"), type_="foreignkey")
            batch_op.drop_column("replaces_id")
            batch_op.create_unique_constraint(_OLD_UNIQUE, _KEY)
        _restore_components()
    else:
        op.drop_constraint(op.f("fk_awards_replaces_id_awards"), "awards", type_="foreignkey")
        op.drop_column("awards", "replaces_id")
        op.create_unique_constraint(_OLD_UNIQUE, "awards", _KEY)
