"""follow-up timers and police reports

The serious-occurrence report gets two columns (filed when, by whom). And the police
report number leaves the vetted content of an alert (``SENT_FIELDS``): recording it
with /police must not send an active alert back to vetting. Every stored content hash
is recomputed without it, and an approval that held before still holds after (its
approved hash moves with the content hash). The field lists and the hash are pinned
here, as they were at this revision, so later changes to the domain cannot change
what this migration does.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:50:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VETTED_BEFORE = (
    "youth_id",
    "subject_name",
    "subject_age",
    "subject_description",
    "last_seen_at",
    "latitude",
    "longitude",
    "location_label",
    "clothing",
    "circumstances",
    "photo_file_id",
    "risk_level",
    "police_report_number",
    "reach_radius_km",
    "extra_org_ids",
)
VETTED_AFTER = tuple(f for f in VETTED_BEFORE if f != "police_report_number")

_incidents = sa.table(
    "incidents",
    sa.column("id", sa.Integer()),
    sa.column("youth_id", sa.Integer()),
    sa.column("subject_name", sa.String()),
    sa.column("subject_age", sa.Integer()),
    sa.column("subject_description", sa.Text()),
    sa.column("last_seen_at", storage.models.UTCDateTime(timezone=True)),
    sa.column("last_seen_lat", sa.Float()),
    sa.column("last_seen_lon", sa.Float()),
    sa.column("last_seen_label", sa.String()),
    sa.column("clothing", sa.Text()),
    sa.column("circumstances", sa.Text()),
    sa.column("photo_file_id", sa.String()),
    sa.column("risk_level", sa.String()),
    sa.column("police_report_number", sa.String()),
    sa.column("reach_radius_km", sa.Float()),
    sa.column("extra_org_ids", sa.JSON()),
    sa.column("version", sa.Integer()),
    sa.column("content_hash", sa.String()),
    sa.column("approved_version", sa.Integer()),
    sa.column("approved_hash", sa.String()),
)


def _values(row: Any) -> dict[str, Any]:
    """The vetted fields of a stored incident, as the domain reads them."""
    return {
        "youth_id": row.youth_id,
        "subject_name": row.subject_name,
        "subject_age": row.subject_age,
        "subject_description": row.subject_description,
        "last_seen_at": row.last_seen_at,
        "latitude": row.last_seen_lat,
        "longitude": row.last_seen_lon,
        "location_label": row.last_seen_label,
        "clothing": row.clothing,
        "circumstances": row.circumstances,
        "photo_file_id": row.photo_file_id,
        "risk_level": row.risk_level or "medium",
        "police_report_number": row.police_report_number,
        "reach_radius_km": row.reach_radius_km,
        "extra_org_ids": list(row.extra_org_ids or ()),
    }


def content_hash(values: dict[str, Any], fields: Sequence[str]) -> str:
    body = json.dumps(
        {k: values.get(k) for k in fields}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _rehash(fields: Sequence[str]) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_incidents)).all():
        new = content_hash(_values(row), fields)
        values: dict[str, Any] = {"content_hash": new}
        approval_held = row.approved_version == row.version and (
            row.approved_hash is not None and row.approved_hash == row.content_hash
        )
        if approval_held:
            values["approved_hash"] = new
        conn.execute(sa.update(_incidents).where(_incidents.c.id == row.id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "occurrence_reported_at",
                storage.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("occurrence_reported_by", sa.Integer(), nullable=True))
    _rehash(VETTED_AFTER)


def downgrade() -> None:
    _rehash(VETTED_BEFORE)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("occurrence_reported_by")
        batch_op.drop_column("occurrence_reported_at")
