"""T28: the singleton scheduler on three instances for 100 ticks, the leader killed
part-way. Each tick's work is done exactly once (``pg_try_advisory_lock`` elects one
leader per tick; claiming a timer is atomic besides) and a new leader takes over within
two ticks.

Each tick has one timer due exactly then; all three instances tick together. The leader
is killed the way a crashed process dies for PostgreSQL: its session is terminated from
outside, which frees the advisory lock; the dead instance never ticks again.

SQLite serves one instance (a second process on the same file is refused at start:
tests/integration/test_single_instance.py), so there the same 100 ticks run on one
instance that is killed and replaced by a fresh one: it leads every tick, each tick's
timer fires once, and the replacement leads on its very first tick.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from bot.scheduler import Scheduler
from bot.services import timers
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer
from storage.db import Database, open_database
from storage.models import TimerRow
from storage.uow import uow_factory

TICKS = 100
KILL_AT = 40
KIND = "test.t28"


class Instance:
    def __init__(self, name: str, url: str, clock: FakeClock, ctx: ServiceContext) -> None:
        self.name = name
        self.db: Database = open_database(url)
        self.ctx = ServiceContext(uow=uow_factory(self.db.sessions), clock=clock, ids=ctx.ids)
        self.scheduler = Scheduler(self.ctx, self.db)

    async def close(self) -> None:
        await self.scheduler.stop()  # a dead leader's unlock fails quietly: its session is gone
        await self.db.dispose()


async def _terminate_lock_holder(database_url: str) -> int:
    """End the PostgreSQL session holding the scheduler's advisory lock, as a crash would."""
    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database,
    )
    try:
        pids = [
            r["pid"]
            for r in await conn.fetch(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ]
        assert len(pids) == 1, pids
        assert await conn.fetchval("SELECT pg_terminate_backend($1, 5000)", pids[0])
    finally:
        await conn.close()
    return int(pids[0])


async def test_t28_one_leader_each_tick_once_and_a_quick_takeover(
    ctx: ServiceContext,
    clock: FakeClock,
    db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    postgres = db.dialect == "postgresql"
    t0 = clock.now()
    async with ctx.uow() as uow:
        for i in range(1, TICKS + 1):
            await timers.schedule(
                uow, ctx, kind=KIND, key=f"t28:{i}", due_at=t0 + timedelta(seconds=i)
            )
        await uow.commit()

    instances = [
        Instance(name, database_url, clock, ctx)
        for name in (("a", "b", "c") if postgres else ("a",))
    ]
    by_ctx = {id(i.ctx): i.name for i in instances}
    runs: Counter[str] = Counter()
    fired_by: dict[str, str] = {}

    async def handler(uow: UnitOfWork, hctx: ServiceContext, timer: Timer) -> None:
        runs[timer.key] += 1
        fired_by[timer.key] = by_ctx[id(hctx)]

    monkeypatch.setattr(timers, "default_handlers", lambda: {KIND: handler})

    alive = list(instances)
    leaders: list[list[str]] = []
    killed: str | None = None
    try:
        for tick in range(1, TICKS + 1):
            clock.set(t0 + timedelta(seconds=tick))
            if tick == KILL_AT:
                [leader] = [i for i in alive if i.name == leaders[-1][0]]
                alive.remove(leader)
                killed = leader.name
                if postgres:
                    await _terminate_lock_holder(database_url)
                else:
                    await leader.close()  # the process dies; a new one starts on the file
                    replacement = Instance("a2", database_url, clock, ctx)
                    by_ctx[id(replacement.ctx)] = replacement.name
                    instances.append(replacement)
                    alive.append(replacement)
            before = {i.name: i.scheduler.ticks for i in alive}
            await asyncio.gather(*(i.scheduler.tick() for i in alive))
            leaders.append([i.name for i in alive if i.scheduler.ticks > before[i.name]])
    finally:
        for instance in instances:
            await instance.close()

    # One leader every tick; the same one until it was killed, another from then on.
    assert all(len(names) == 1 for names in leaders), leaders
    first = leaders[0][0]
    assert {names[0] for names in leaders[: KILL_AT - 1]} == {first}
    assert killed == first
    successor = leaders[KILL_AT - 1][0]  # took over on the kill tick: within 2 ticks
    assert successor != first
    assert {names[0] for names in leaders[KILL_AT - 1 :]} == {successor}

    # Each tick's timer ran exactly once, at its own tick, by that tick's leader.
    assert runs == Counter({f"t28:{i}": 1 for i in range(1, TICKS + 1)})
    for i in range(1, TICKS + 1):
        assert fired_by[f"t28:{i}"] == leaders[i - 1][0]
    async with db.sessions() as session:
        stored = (await session.execute(select(TimerRow))).scalars().all()
    assert {r.key: r.fired_at for r in stored} == {
        f"t28:{i}": t0 + timedelta(seconds=i) for i in range(1, TICKS + 1)
    }
