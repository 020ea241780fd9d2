"""Stored timers at the service and storage level (both backends): a timer fires once,
at its deadline on the domain clock; scheduling is idempotent; cancelling works;
concurrent claimers fire each timer once; the scheduler's loop and leadership."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.domain.outgoing import Outgoing
from bot.scheduler import Scheduler
from bot.services import timers
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer
from storage.db import Database, open_database
from storage.leader import AdvisoryLeader
from storage.models import OutboxRow, TimerRow
from storage.uow import uow_factory

PING = "test.ping"


class Recorder:
    def __init__(self) -> None:
        self.fired: Counter[str] = Counter()

    async def __call__(self, uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
        self.fired[timer.key] += 1

    @property
    def table(self) -> dict[str, timers.Handler]:
        return {PING: self}


async def arm(ctx: ServiceContext, key: str, after: timedelta, **payload: object) -> bool:
    async with ctx.uow() as uow:
        armed = await timers.schedule(uow, ctx, kind=PING, key=key, after=after, payload=payload)
        await uow.commit()
    return armed


async def rows(db: Database) -> dict[str, TimerRow]:
    async with db.sessions() as session:
        return {r.key: r for r in (await session.execute(select(TimerRow))).scalars()}


async def test_fires_once_at_its_deadline_not_before(
    ctx: ServiceContext, clock: FakeClock, db: Database
) -> None:
    rec = Recorder()
    start = clock.now()
    assert await arm(ctx, "t:1", timedelta(minutes=5), n=1)
    stored = (await rows(db))["t:1"]
    assert stored.due_at == start + timedelta(minutes=5)
    assert stored.due_at.utcoffset() == timedelta(0)

    clock.advance(timedelta(minutes=5) - timedelta(seconds=1))
    assert await timers.fire_due(ctx, handlers=rec.table) == 0
    clock.advance(1)
    assert await timers.fire_due(ctx, handlers=rec.table) == 1
    assert await timers.fire_due(ctx, handlers=rec.table) == 0
    clock.advance(timedelta(hours=1))
    assert await timers.fire_due(ctx, handlers=rec.table) == 0
    assert rec.fired == Counter({"t:1": 1})
    assert (await rows(db))["t:1"].fired_at == start + timedelta(minutes=5)


async def test_scheduling_is_idempotent_and_a_spent_key_can_be_rearmed(
    ctx: ServiceContext, clock: FakeClock, db: Database
) -> None:
    rec = Recorder()
    start = clock.now()
    assert await arm(ctx, "t:1", timedelta(minutes=5))
    clock.advance(60)
    assert not await arm(ctx, "t:1", timedelta(minutes=5))  # still waiting: kept as it was
    assert (await rows(db))["t:1"].due_at == start + timedelta(minutes=5)

    clock.advance(timedelta(minutes=4))
    assert await timers.fire_due(ctx, handlers=rec.table) == 1
    assert await arm(ctx, "t:1", timedelta(minutes=5))  # spent: armed again
    assert await timers.fire_due(ctx, handlers=rec.table) == 0
    clock.advance(timedelta(minutes=5))
    assert await timers.fire_due(ctx, handlers=rec.table) == 1
    assert rec.fired == Counter({"t:1": 2})
    assert len(await rows(db)) == 1


async def test_cancelled_timers_never_fire(ctx: ServiceContext, clock: FakeClock) -> None:
    rec = Recorder()
    for key in ("a:1", "a:2", "a_b:1", "b:1"):
        await arm(ctx, key, timedelta(minutes=1))
    async with ctx.uow() as uow:
        assert await timers.cancel(uow, ctx, key="a:", prefix=True) == 2
        assert await timers.cancel(uow, ctx, key="a_b:1") == 1
        assert await timers.cancel(uow, ctx, key="a_b:1") == 0
        await uow.commit()
    clock.advance(timedelta(minutes=2))
    assert await timers.fire_due(ctx, handlers=rec.table) == 1
    assert rec.fired == Counter({"b:1": 1})
    async with ctx.uow() as uow:  # fired ones cannot be cancelled after the fact
        assert await timers.cancel(uow, ctx, key="b:1") == 0


async def test_cancel_for_incident_by_kind(ctx: ServiceContext, clock: FakeClock) -> None:
    async with ctx.uow() as uow:
        await timers.schedule_vetting_escalations(uow, ctx, 41)
        await timers.schedule_vetting_escalations(uow, ctx, 42)
        await uow.commit()
    async with ctx.uow() as uow:
        assert await timers.cancel_vetting_escalations(uow, ctx, 41) == 2
        await uow.commit()
    rec = Recorder()
    clock.advance(timedelta(minutes=11))
    table = dict.fromkeys(timers.VETTING_ESCALATIONS, rec)
    assert await timers.fire_due(ctx, handlers=table) == 2
    assert set(rec.fired) == {
        "vetting.escalate_area:42",
        "vetting.escalate_admins:42",
    }


async def test_two_concurrent_firers_fire_each_timer_once(
    ctx: ServiceContext, clock: FakeClock, database_url: str
) -> None:
    for i in range(30):
        await arm(ctx, f"t:{i}", timedelta(seconds=i))
    clock.advance(timedelta(minutes=1))
    rec = Recorder()
    other_db = open_database(database_url)  # a second instance: its own engine and pool
    try:
        other = ServiceContext(uow=uow_factory(other_db.sessions), clock=clock, ids=ctx.ids)
        counts = await asyncio.gather(
            timers.fire_due(ctx, handlers=rec.table),
            timers.fire_due(other, handlers=rec.table),
            timers.fire_due(ctx, handlers=rec.table),
        )
    finally:
        await other_db.dispose()
    assert sum(counts) == 30
    assert rec.fired == Counter({f"t:{i}": 1 for i in range(30)})


async def test_a_failing_handler_rolls_back_its_work_and_does_not_block_others(
    ctx: ServiceContext, clock: FakeClock, db: Database
) -> None:
    async def broken(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
        await uow.outbox.add(Outgoing.text(1, "half-done"), at=ctx.clock.now())
        raise RuntimeError("boom")

    rec = Recorder()
    await arm(ctx, "bad:1", timedelta(seconds=1))
    await arm(ctx, "t:1", timedelta(seconds=2))
    async with ctx.uow() as uow:
        await timers.schedule(uow, ctx, kind="test.broken", key="bad:2", after=timedelta(0))
        await uow.commit()
    clock.advance(5)
    fired = await timers.fire_due(ctx, handlers={PING: rec, "test.broken": broken})
    assert fired == 2  # bad:1 and t:1 ran; bad:2 was given up
    stored = await rows(db)
    assert all(r.fired_at is not None for r in stored.values())
    async with ctx.uow() as uow:
        failed = await uow.timeline.list_for_subject("timer", str(stored["bad:2"].id))
    assert [e.event.action for e in failed] == ["timer.failed"]
    async with db.sessions() as session:  # the failed handler's message was rolled back
        assert (await session.execute(select(OutboxRow))).first() is None


async def test_the_scheduler_loop_fires_due_timers_by_itself(
    ctx: ServiceContext, clock: FakeClock, db: Database
) -> None:
    async with ctx.uow() as uow:
        await timers.schedule(uow, ctx, kind="test.unknown", key="loop:1", after=timedelta(0))
        await uow.commit()
    scheduler = Scheduler(ctx, db, tick_seconds=0.01)
    await scheduler.start()
    try:
        await asyncio.wait_for(scheduler.wait_until(lambda s: s.fired >= 1), 5)
        ticks = scheduler.ticks
        await asyncio.wait_for(scheduler.wait_until(lambda s: s.ticks >= ticks + 2), 5)
    finally:
        await scheduler.stop()
    assert scheduler.fired == 1
    assert (await rows(db))["loop:1"].fired_at == clock.now()


async def test_only_one_instance_leads_on_postgresql(db: Database, database_url: str) -> None:
    other_db = open_database(database_url)
    first, second = AdvisoryLeader(db), AdvisoryLeader(other_db)
    try:
        assert await first.try_lead()
        assert await first.try_lead()  # keeps it
        if db.dialect == "postgresql":
            assert not await second.try_lead()
            await first.release()
            assert await second.try_lead()  # takes over on its next attempt
            assert not await first.try_lead()
        else:
            assert await second.try_lead()  # SQLite: one instance, always the leader
    finally:
        await first.release()
        await second.release()
        await other_db.dispose()
