"""reach indexes lead with status

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 03:03:48.982000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_area"))
        batch_op.create_index("ix_members_radius", ["status", "area_radius_km"], unique=False)
        batch_op.create_index("ix_members_reach", ["status", "area_lat", "area_lon"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_reach")
        batch_op.drop_index("ix_members_radius")
        batch_op.create_index(batch_op.f("ix_members_area"), ["area_lat", "area_lon"], unique=False)
