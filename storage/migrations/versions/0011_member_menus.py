"""member menus

``members.menu_signature`` remembers which command menu Telegram last got for each
member, so that a release adding commands re-sends the menus once at start. Existing
members start with none: their menus are re-sent on the first start after upgrading.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("members", sa.Column("menu_signature", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of
    # "members" would trip the foreign keys that point at it.
    op.drop_column("members", "menu_signature")
