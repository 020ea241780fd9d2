"""the timeline is append-only in the database (triggers refuse UPDATE and DELETE)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 03:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage import audit_guard

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit_guard.install(op.get_bind())


def downgrade() -> None:
    audit_guard.remove(op.get_bind())
