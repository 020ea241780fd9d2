"""Migration 0009 takes the police report number out of an alert's vetted content: every
stored content hash is recomputed without it, an approval that held still holds (and can
survive /police), a stale one stays stale, and the downgrade restores the old hashes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from bot.domain.incidents import IncidentStatus, content_hash, sent_fields
from storage.db import open_database
from storage.migrate import alembic_config
from storage.models import UTCDateTime
from storage.uow import uow_factory

WITH_POLICE = (
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
AT = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)

members = sa.table(
    "members",
    sa.column("id", sa.Integer()),
    sa.column("telegram_id", sa.BigInteger()),
    sa.column("name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("status", sa.String()),
    sa.column("area_names", sa.JSON()),
    sa.column("created_at", UTCDateTime(timezone=True)),
)
incidents = sa.table(
    "incidents",
    *(
        sa.column(name, type_)
        for name, type_ in {
            "id": sa.Integer(),
            "code": sa.String(),
            "is_drill": sa.Boolean(),
            "status": sa.String(),
            "raised_by": sa.Integer(),
            "created_at": UTCDateTime(timezone=True),
            "subject_name": sa.String(),
            "subject_age": sa.Integer(),
            "last_seen_at": UTCDateTime(timezone=True),
            "last_seen_lat": sa.Float(),
            "last_seen_lon": sa.Float(),
            "clothing": sa.Text(),
            "risk_level": sa.String(),
            "risk_answers": sa.JSON(),
            "police_told": sa.Boolean(),
            "police_report_number": sa.String(),
            "reach_radius_km": sa.Float(),
            "extra_org_ids": sa.JSON(),
            "version": sa.Integer(),
            "content_hash": sa.String(),
            "approved_version": sa.Integer(),
            "approved_hash": sa.String(),
            "approved_by": sa.Integer(),
        }.items()
    ),
)


def old_hash(values: dict[str, Any]) -> str:
    """The content hash as it was before 0009 (with the police report number)."""
    body = json.dumps(
        {k: values.get(k) for k in WITH_POLICE}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _row(n: int, **extra: Any) -> tuple[dict[str, Any], str]:
    domain = {
        "youth_id": None,
        "subject_name": f"Youth {n}",
        "subject_age": 14,
        "subject_description": None,
        "last_seen_at": AT,
        "latitude": 46.49,
        "longitude": -80.99,
        "location_label": None,
        "clothing": "Black hoodie",
        "circumstances": None,
        "photo_file_id": None,
        "risk_level": "high",
        "police_report_number": extra.pop("police_report_number", None),
        "reach_radius_km": 50.0,
        "extra_org_ids": [],
    }
    stored = old_hash(domain)
    row = {
        "id": n,
        "code": f"HW-TEST{n}",
        "is_drill": False,
        "raised_by": 1,
        "created_at": AT,
        "subject_name": domain["subject_name"],
        "subject_age": 14,
        "last_seen_at": AT,
        "last_seen_lat": 46.49,
        "last_seen_lon": -80.99,
        "clothing": "Black hoodie",
        "risk_level": "high",
        "risk_answers": {},
        "police_told": domain["police_report_number"] is not None,
        "police_report_number": domain["police_report_number"],
        "reach_radius_km": 50.0,
        "extra_org_ids": [],
        "content_hash": stored,
        **extra,
    }
    return row, stored


async def _alembic(url: str, verb: str, revision: str) -> None:
    await asyncio.to_thread(getattr(command, verb), alembic_config(url), revision)


async def test_0009_rehashes_without_the_police_number_and_keeps_approvals(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await _alembic(url, "upgrade", "0008")
    approved, approved_hash = _row(
        1,
        police_report_number="2026-77",
        status="active",
        version=1,
        approved_version=1,
        approved_by=1,
    )
    approved["approved_hash"] = approved_hash
    stale, stale_hash = _row(
        2, status="pending", version=2, approved_version=1, approved_hash="f" * 64, approved_by=1
    )
    pending, pending_hash = _row(3, status="pending", version=1)
    db = open_database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.insert(members).values(
                    id=1,
                    telegram_id=42,
                    name="Cora",
                    role="coordinator",
                    status="active",
                    area_names=[],
                    created_at=AT,
                )
            )
            for row in (approved, stale, pending):
                await conn.execute(sa.insert(incidents).values(**row))
    finally:
        await db.dispose()

    await _alembic(url, "upgrade", "head")
    db = open_database(url)
    try:
        uow = uow_factory(db.sessions)
        async with uow() as u:
            one, two, three = [await u.incidents.get(n) for n in (1, 2, 3)]
        assert one is not None
        assert two is not None
        assert three is not None
        for incident, before in ((one, approved_hash), (two, stale_hash), (three, pending_hash)):
            assert incident.content_hash == content_hash(sent_fields(incident))
            assert incident.content_hash != before  # the police number (even empty) left it
        assert one.approval_current
        assert one.approved_hash == one.content_hash
        assert not two.approval_current
        assert two.approved_hash == "f" * 64
        assert three.approved_hash is None

        async with uow() as u:  # /police now leaves the approval alone ...
            assert await u.incidents.record_police_report(1, number="2026-78")
            # ... and the never-approved one approves against its new hash.
            assert await u.incidents.approve(
                3, version=1, content_hash=three.content_hash, by_member_id=99, at=AT
            )
            await u.commit()
        async with uow() as u:
            one_after, three_after = await u.incidents.get(1), await u.incidents.get(3)
        assert one_after is not None
        assert three_after is not None
        assert one_after.approval_current
        assert one_after.police_report_number == "2026-78"
        assert three_after.status is IncidentStatus.ACTIVE
    finally:
        await db.dispose()

    await _alembic(url, "downgrade", "0008")
    db = open_database(url)
    try:
        async with db.engine.connect() as conn:
            hashes = dict(
                (await conn.execute(sa.select(incidents.c.id, incidents.c.content_hash))).all()
            )
            approvals = dict(
                (await conn.execute(sa.select(incidents.c.id, incidents.c.approved_hash))).all()
            )
            await conn.rollback()
    finally:
        await db.dispose()
    assert hashes[2] == stale_hash  # unchanged rows hash as they did before 0009
    assert approvals[2] == "f" * 64
    assert hashes[1] == approvals[1]  # the approval still holds, now with the number in it
