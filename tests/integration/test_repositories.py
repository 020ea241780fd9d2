"""The SQL repositories on the backend under test (SQLite, or PostgreSQL when
``HOMEWARD_TEST_DATABASE_URL`` is set): round trips, contested changes, the timeline
hash chain (T36) and UTC datetimes."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError, StatementError

from bot.clock import FakeClock
from bot.domain.errors import StaleAction
from bot.domain.membership import Member, MemberStatus, OrgKind, Role
from bot.services import history, members
from bot.services.context import ServiceContext
from storage import audit_guard
from storage.db import Database
from storage.models import MemberRow, OutboxRow, TimelineRow
from tests.conftest import backend

BIG_TELEGRAM_ID = 2**52 - 1


async def _add_member(
    ctx: ServiceContext,
    *,
    telegram_id: int,
    name: str,
    role: Role = Role.RESPONDER,
    status: MemberStatus = MemberStatus.ACTIVE,
    created_at: datetime | None = None,
) -> Member:
    async with ctx.uow() as uow:
        member = await uow.members.add(
            telegram_id=telegram_id,
            name=name,
            role=role,
            org_id=None,
            status=status,
            registration_step=None,
            created_at=created_at or ctx.clock.now(),
        )
        await uow.commit()
    return member


# Members ---------------------------------------------------------------------------------


async def test_member_round_trip_with_a_52_bit_telegram_id(ctx: ServiceContext) -> None:
    added = await _add_member(ctx, telegram_id=BIG_TELEGRAM_ID, name="Max Id")
    assert added.telegram_id == BIG_TELEGRAM_ID

    async with ctx.uow() as uow:
        by_id = await uow.members.get(added.id)
        by_telegram = await uow.members.get_by_telegram_id(BIG_TELEGRAM_ID)
        missing = await uow.members.get_by_telegram_id(BIG_TELEGRAM_ID - 1)
    assert by_id is not None
    assert by_telegram is not None
    assert by_id == by_telegram
    assert by_id.telegram_id == BIG_TELEGRAM_ID
    assert by_id.name == "Max Id"
    assert by_id.role is Role.RESPONDER
    assert by_id.status is MemberStatus.ACTIVE
    assert missing is None


class _MeetBeforeUpdate:
    """Member repository wrapper: both contenders read the member before either updates."""

    def __init__(self, inner: Any, barrier: asyncio.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def change_status(self, *args: Any, **kwargs: Any) -> bool:
        await self._barrier.wait()
        return bool(await self._inner.change_status(*args, **kwargs))


@pytest.mark.parametrize(("first", "second"), [(True, True), (True, False), (False, False)])
async def test_concurrent_vetting_decisions_exactly_one_wins(
    ctx: ServiceContext, db: Database, clock: FakeClock, first: bool, second: bool
) -> None:
    vetters = [
        await _add_member(ctx, telegram_id=1001, name="Cora One", role=Role.COORDINATOR),
        await _add_member(ctx, telegram_id=1002, name="Cory Two", role=Role.COORDINATOR),
    ]
    pending = await _add_member(
        ctx, telegram_id=2001, name="Pat Pending", status=MemberStatus.PENDING
    )
    clock.advance(60)
    # On PostgreSQL both transactions read "pending" and then race their UPDATEs: only the
    # conditional UPDATE can keep one out. On SQLite, BEGIN IMMEDIATE makes the second
    # transaction start after the first commits, so it reads the decided status instead
    # (meeting at a barrier there would deadlock on the write lock).
    barrier = asyncio.Barrier(2) if backend() == "postgresql" else None

    async def decide(actor: Member, approve: bool) -> members.Decision:
        async with ctx.uow() as uow:
            if barrier is not None:
                uow.members = _MeetBeforeUpdate(uow.members, barrier)  # type: ignore[assignment]
            decision = await members.decide_registration(
                uow, ctx, actor=actor, member_id=pending.id, approve=approve
            )
            await uow.commit()
        return decision

    results = await asyncio.gather(
        decide(vetters[0], first), decide(vetters[1], second), return_exceptions=True
    )
    wins = [r for r in results if isinstance(r, members.Decision)]
    stale = [r for r in results if isinstance(r, StaleAction)]
    assert len(wins) == 1, results
    assert len(stale) == 1, results
    winner = wins[0]

    async with ctx.uow() as uow:
        member = await uow.members.get(pending.id)
        events = await uow.timeline.list_for_subject("member", str(pending.id))
    assert member is not None
    expected = MemberStatus.ACTIVE if winner.decision == "approved" else MemberStatus.REJECTED
    assert member.status is expected
    # Only the winner's transaction left anything behind.
    assert [(e.event.action, e.event.actor_member_id) for e in events] == [
        (f"member.{winner.decision}", winner.by.id)
    ]
    async with db.sessions() as s:
        changed_by = (
            await s.execute(select(MemberRow.status_changed_by).where(MemberRow.id == pending.id))
        ).scalar_one()
        notices = (
            await s.execute(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.chat_id == pending.telegram_id, OutboxRow.method == "sendMessage")
            )
        ).scalar_one()
    assert changed_by == winner.by.id
    assert notices == 1, "the loser's outbox messages must have been rolled back"


# Invites ---------------------------------------------------------------------------------


async def _add_org_and_invite(
    ctx: ServiceContext, code: str, *, expires_at: datetime, org_name: str = "Maple House"
) -> None:
    async with ctx.uow() as uow:
        org = await uow.organisations.get_by_name(org_name)
        if org is None:
            org = await uow.organisations.add(
                kind=OrgKind.RESIDENCE, name=org_name, created_at=ctx.clock.now()
            )
        await uow.invites.add(
            code_hash=hashlib.sha256(code.encode()).hexdigest(),
            role=Role.RESIDENCE_STAFF,
            org_id=org.id,
            created_by=None,
            created_at=ctx.clock.now(),
            expires_at=expires_at,
        )
        await uow.commit()


async def _consume(ctx: ServiceContext, code: str, telegram_id: int) -> Any:
    async with ctx.uow() as uow:
        invite = await uow.invites.consume(
            code_hash=hashlib.sha256(code.encode()).hexdigest(),
            telegram_id=telegram_id,
            now=ctx.clock.now(),
        )
        await uow.commit()
    return invite


async def test_invite_is_single_use_under_concurrency(ctx: ServiceContext) -> None:
    code = "race-for-the-invite-code"
    await _add_org_and_invite(ctx, code, expires_at=ctx.clock.now() + timedelta(hours=24))

    results = await asyncio.gather(*(_consume(ctx, code, 3000 + i) for i in range(10)))
    winners = [(i, r) for i, r in enumerate(results) if r is not None]
    assert len(winners) == 1, results
    index, invite = winners[0]
    assert invite.used_by_telegram_id == 3000 + index
    assert invite.used_at == ctx.clock.now()

    # Committed state agrees, and a later attempt is refused too.
    assert await _consume(ctx, code, 4000) is None


async def test_expired_invites_are_not_consumable(ctx: ServiceContext, clock: FakeClock) -> None:
    now = clock.now()
    for code, expires_at in [
        ("expired-an-hour-ago-code", now - timedelta(hours=1)),
        ("expires-right-now-code", now),
        ("expires-in-a-minute-code", now + timedelta(minutes=1)),
        ("still-valid-later-code", now + timedelta(hours=2)),
    ]:
        await _add_org_and_invite(ctx, code, expires_at=expires_at)

    assert await _consume(ctx, "expired-an-hour-ago-code", 5001) is None
    assert await _consume(ctx, "expires-right-now-code", 5002) is None
    clock.advance(timedelta(minutes=2))
    assert await _consume(ctx, "expires-in-a-minute-code", 5003) is None
    assert await _consume(ctx, "unknown-code-never-issued", 5004) is None
    assert await _consume(ctx, "still-valid-later-code", 5005) is not None


# Timeline hash chain (T36) -------------------------------------------------------------


async def _append_events(ctx: ServiceContext, clock: FakeClock, count: int, per_uow: int) -> None:
    done = 0
    while done < count:
        async with ctx.uow() as uow:
            for _ in range(min(per_uow, count - done)):
                await history.record(
                    uow,
                    ctx,
                    action="test.event",
                    subject_type="member",
                    subject_id=done,
                    actor_telegram_id=BIG_TELEGRAM_ID,
                    incident_id=done % 7 or None,
                    details={"n": done, "note": f"event {done}", "nested": {"k": [done, "x"]}},
                )
                clock.advance(1)
                done += 1
            await uow.commit()


async def _timeline_ids(db: Database) -> list[int]:
    async with db.sessions() as s:
        return list((await s.execute(select(TimelineRow.id).order_by(TimelineRow.id))).scalars())


async def _details_of(db: Database, event_id: int) -> dict[str, Any]:
    async with db.sessions() as s:
        details = (
            await s.execute(select(TimelineRow.details).where(TimelineRow.id == event_id))
        ).scalar_one()
    return dict(details)


async def _set_details(db: Database, event_id: int, details: dict[str, Any]) -> None:
    """Tamper below the application: ``UPDATE timeline_events SET details = ...``."""
    async with db.sessions() as s, s.begin():
        result = await s.execute(
            update(TimelineRow.__table__)
            .where(TimelineRow.__table__.c.id == event_id)
            .values(details=details)
        )
        assert result.rowcount == 1  # type: ignore[attr-defined]


async def test_timeline_chain_detects_every_modification_and_deletion(
    ctx: ServiceContext, db: Database, clock: FakeClock
) -> None:
    await _append_events(ctx, clock, 200, per_uow=10)
    checked, problems = await history.verify(ctx)
    assert (checked, problems) == (200, [])
    ids = await _timeline_ids(db)
    assert len(ids) == 200
    # The database itself refuses to rewrite history...
    with pytest.raises(DBAPIError, match="append-only"):
        await _set_details(db, ids[0], {"note": "rewritten"})
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.sessions() as s, s.begin():
            await s.execute(delete(TimelineRow).where(TimelineRow.id == ids[0]))
    # ...so an attacker must first drop the guard (DDL rights); the chain still catches it.
    async with db.engine.begin() as conn:
        await conn.run_sync(audit_guard.remove)

    # Modification: each tampered row is named, and only that row.
    for event_id in [ids[0], *ids[1:-1:20], ids[-1]]:
        original = await _details_of(db, event_id)
        await _set_details(db, event_id, {**original, "note": "rewritten"})
        checked, problems = await history.verify(ctx)
        assert checked == 200
        assert [p.event_id for p in problems] == [event_id]
        assert "changed" in problems[0].reason
        await _set_details(db, event_id, original)
        assert await history.verify(ctx) == (200, [])

    # Deletion of a middle row: the chain breaks at the next surviving event.
    victim = ids[100]
    async with db.sessions() as s, s.begin():
        await s.execute(delete(TimelineRow).where(TimelineRow.id == victim))
    checked, problems = await history.verify(ctx)
    assert checked == 199
    assert [p.event_id for p in problems] == [ids[101]]
    assert "missing" in problems[0].reason


async def test_concurrent_timeline_appends_keep_one_chain(
    ctx: ServiceContext, clock: FakeClock
) -> None:
    async def writer(n: int) -> None:
        for i in range(5):
            async with ctx.uow() as uow:
                await history.record(
                    uow,
                    ctx,
                    action="test.concurrent",
                    subject_type="writer",
                    subject_id=n,
                    details={"i": i},
                )
                await uow.commit()

    await asyncio.gather(*(writer(n) for n in range(10)))
    assert await history.verify(ctx) == (50, [])


# Datetimes -------------------------------------------------------------------------------


async def test_datetimes_come_back_aware_utc(ctx: ServiceContext, db: Database) -> None:
    toronto_winter = timezone(timedelta(hours=-5))
    local = datetime(2026, 3, 6, 10, 30, 15, 123456, tzinfo=toronto_winter)
    added = await _add_member(ctx, telegram_id=6001, name="Tz Test", created_at=local)

    async with ctx.uow() as uow:
        member = await uow.members.get(added.id)
    assert member is not None
    assert member.created_at == local  # the same instant
    assert member.created_at.tzinfo is not None
    assert member.created_at.utcoffset() == timedelta(0)
    assert member.created_at == datetime(2026, 3, 6, 15, 30, 15, 123456, tzinfo=UTC)

    async with db.sessions() as s:
        for column in (MemberRow.created_at, MemberRow.status_changed_at):
            value = (await s.execute(select(column).where(MemberRow.id == added.id))).scalar_one()
            assert value.utcoffset() == timedelta(0), column


async def test_naive_datetime_is_refused(ctx: ServiceContext) -> None:
    naive = datetime(2026, 3, 6, 15, 0)  # noqa: DTZ001 - the point of the test
    async with ctx.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime") as refused:
            await uow.members.add(
                telegram_id=7001,
                name="Naive Time",
                role=Role.RESPONDER,
                org_id=None,
                status=MemberStatus.ACTIVE,
                registration_step=None,
                created_at=naive,
            )
    assert isinstance(refused.value.orig, ValueError)
    async with ctx.uow() as uow:
        assert await uow.members.get_by_telegram_id(7001) is None
