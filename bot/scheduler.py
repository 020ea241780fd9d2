"""The timer scheduler: every ``tick_seconds`` of real time, fire the timers that are
due on the domain clock. On PostgreSQL only the instance holding the advisory lock
ticks (leadership is re-tried every tick, so a new leader takes over within one or
two ticks of the old one dying); firing is atomic per timer besides, so even two
ticking instances would fire each timer once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.services import timers
from bot.services.context import ServiceContext
from storage.db import Database
from storage.leader import AdvisoryLeader

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, ctx: ServiceContext, db: Database, *, tick_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.tick_seconds = tick_seconds
        self.leader = AdvisoryLeader(db)
        self.ticks = 0  # ticks run as leader
        self.fired = 0  # timers fired by this instance
        self.changed = asyncio.Condition()
        self._tick_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> int:
        """One round: lead if we can, then fire what is due. Returns how many fired.

        Serialised with the background loop, so when a direct call returns, anything
        a concurrent loop tick fired is committed too.
        """
        async with self._tick_lock:
            if not await self.leader.try_lead():
                return 0
            fired = await timers.fire_due(self.ctx)
        async with self.changed:
            self.ticks += 1
            self.fired += fired
            self.changed.notify_all()
        return fired

    async def wait_until(self, predicate: Callable[[Scheduler], bool]) -> None:
        """Until ``predicate(self)`` holds (tests; wrap in ``asyncio.wait_for``)."""
        async with self.changed:
            await self.changed.wait_for(lambda: predicate(self))

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="timer-scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 10.0)
        async with self._tick_lock:
            await self.leader.release()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler: tick failed; trying again next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_seconds)
