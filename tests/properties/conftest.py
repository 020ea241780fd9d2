"""Property-test fixtures and seeding helpers (T10, T12, T36).

The database fixtures mirror ``tests/integration/conftest.py`` (a fresh migrated database of
the backend under test per test). Tests that drive many Hypothesis examples against one
accumulating database are synchronous and own an ``asyncio.Runner``; they use
:func:`service_context` directly instead of the async ``ctx`` fixture.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.incidents import Youth
from bot.domain.membership import Member, MemberStatus, Organisation, OrgKind, Role, ServiceArea
from bot.services.context import SecureIds, ServiceContext
from bot.services.ports import UnitOfWork
from storage.db import Database, open_database
from storage.uow import uow_factory

_telegram_ids = itertools.count(7_000_000_001)


@asynccontextmanager
async def service_context(database_url: str, clock: FakeClock) -> AsyncIterator[ServiceContext]:
    database = open_database(database_url)
    try:
        yield ServiceContext(uow=uow_factory(database.sessions), clock=clock, ids=SecureIds())
    finally:
        await database.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def ctx(db: Database, clock: FakeClock) -> ServiceContext:
    return ServiceContext(uow=uow_factory(db.sessions), clock=clock, ids=SecureIds())


async def add_org(
    uow: UnitOfWork,
    ctx: ServiceContext,
    kind: OrgKind,
    name: str,
    point: tuple[float, float] | None = None,
) -> Organisation:
    return await uow.organisations.add(
        kind=kind,
        name=name,
        created_at=ctx.clock.now(),
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
    )


async def add_member(
    uow: UnitOfWork,
    ctx: ServiceContext,
    role: Role,
    org_id: int | None,
    *,
    area: tuple[float, float, float] | None = None,
    status: MemberStatus = MemberStatus.ACTIVE,
    name: str | None = None,
) -> Member:
    """An active (or otherwise) member, optionally with a service area (lat, lon, radius)."""
    telegram_id = next(_telegram_ids)
    member = await uow.members.add(
        telegram_id=telegram_id,
        name=name or f"{role.value} {telegram_id}",
        role=role,
        org_id=org_id,
        status=status,
        registration_step=None,
        created_at=ctx.clock.now(),
    )
    if area is not None:
        await uow.members.update_registration(
            member.id,
            step=None,
            area=ServiceArea(latitude=area[0], longitude=area[1], radius_km=area[2]),
        )
    fresh = await uow.members.get(member.id)
    assert fresh is not None
    return fresh


async def add_youth(
    uow: UnitOfWork, ctx: ServiceContext, residence_org_id: int, name: str, **fields: Any
) -> Youth:
    return await uow.youth.add(
        residence_org_id=residence_org_id,
        created_by=None,
        at=ctx.clock.now(),
        fields={"legal_name": f"{name} Legal", "preferred_name": name, **fields},
    )
