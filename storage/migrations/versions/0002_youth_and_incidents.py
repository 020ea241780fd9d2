"""youth profiles and incidents

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 02:45:20.569272
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "youth",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("residence_org_id", sa.Integer(), nullable=False),
        sa.Column("legal_name", sa.String(length=120), nullable=False),
        sa.Column("preferred_name", sa.String(length=80), nullable=False),
        sa.Column("pronouns", sa.String(length=40), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("languages", sa.String(length=120), nullable=True),
        sa.Column("indigenous_community", sa.String(length=120), nullable=True),
        sa.Column("service_preference", sa.String(length=200), nullable=True),
        sa.Column("medical_needs", sa.Text(), nullable=True),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("associates", sa.JSON(), nullable=False),
        sa.Column("risk_notes", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["residence_org_id"],
            ["organisations.id"],
            name=op.f("fk_youth_residence_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_youth")),
    )
    with op.batch_alter_table("youth", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_youth_residence_org_id"), ["residence_org_id"], unique=False
        )

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("is_drill", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("draft_step", sa.String(length=30), nullable=True),
        sa.Column("youth_id", sa.Integer(), nullable=True),
        sa.Column("residence_org_id", sa.Integer(), nullable=True),
        sa.Column("raised_by", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("subject_name", sa.String(length=80), nullable=True),
        sa.Column("subject_age", sa.Integer(), nullable=True),
        sa.Column("subject_description", sa.Text(), nullable=True),
        sa.Column("last_seen_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_lat", sa.Float(), nullable=True),
        sa.Column("last_seen_lon", sa.Float(), nullable=True),
        sa.Column("last_seen_label", sa.String(length=200), nullable=True),
        sa.Column("location_source", sa.String(length=20), nullable=True),
        sa.Column("clothing", sa.Text(), nullable=True),
        sa.Column("circumstances", sa.Text(), nullable=True),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("risk_level", sa.String(length=10), nullable=True),
        sa.Column("risk_answers", sa.JSON(), nullable=False),
        sa.Column("police_told", sa.Boolean(), nullable=True),
        sa.Column("police_report_number", sa.String(length=40), nullable=True),
        sa.Column("reach_radius_km", sa.Float(), nullable=True),
        sa.Column("extra_org_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("approved_version", sa.Integer(), nullable=True),
        sa.Column("approved_hash", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_reason", sa.String(length=300), nullable=True),
        sa.Column("resolved_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["raised_by"], ["members.id"], name=op.f("fk_incidents_raised_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["residence_org_id"],
            ["organisations.id"],
            name=op.f("fk_incidents_residence_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["youth_id"], ["youth.id"], name=op.f("fk_incidents_youth_id_youth")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("code", name=op.f("uq_incidents_code")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incidents_point", ["last_seen_lat", "last_seen_lon"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incidents_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_youth_id"), ["youth_id"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreachable_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_incident_id"))
        batch_op.drop_column("incident_id")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_youth_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_status"))
        batch_op.drop_index("ix_incidents_point")

    op.drop_table("incidents")
    with op.batch_alter_table("youth", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_youth_residence_org_id"))

    op.drop_table("youth")
