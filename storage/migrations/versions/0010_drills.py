"""drills

A drill raises a real incident (``incidents.is_drill``, there since 0002) for a
fictional youth; ``youth.is_drill`` marks that profile so it is never listed with
real ones.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 05:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("youth", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_drill", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("youth", schema=None) as batch_op:
        batch_op.drop_column("is_drill")
