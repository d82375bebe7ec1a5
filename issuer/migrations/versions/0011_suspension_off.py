"""Suspension entries off for every issuer: one ``credentialStatus`` per credential.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:00:00

Open Badges 3.0 and CLR 2.0 allow at most one ``credentialStatus``; the official schemas refuse
a credential with two (a revocation and a suspension entry), and wallet libraries read only the
first. Issuers created before this revision had suspension on by default (not by choice), so
they kept issuing schema-invalid credentials. This switches it off for all of them; an issuer
that needs suspension turns it back on (``sijil-issuer issuers suspension --enable``), knowing
the trade-off. Credentials already issued keep their entries (and stay suspendable).

Downgrade restores the old default for every issuer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Suspension entries off for every issuer."""
    op.execute(sa.text("UPDATE issuers SET suspension_enabled = :off").bindparams(off=False))


def downgrade() -> None:
    """Back to the old default (on) for every issuer."""
    op.execute(sa.text("UPDATE issuers SET suspension_enabled = :on").bindparams(on=True))
