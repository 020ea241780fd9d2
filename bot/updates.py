"""How updates are processed: concurrently, bounded, and observably.

PTB's ``BaseUpdateProcessor`` is the supported extension point; this one counts
updates in flight so that shutdown (and tests) can wait until every fetched
update has been fully handled, without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram.ext import SimpleUpdateProcessor


class TrackingUpdateProcessor(SimpleUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._done = asyncio.Condition()
        self.processed = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._in_flight += 1
        self._quiet.clear()
        try:
            await coroutine
        finally:
            self._in_flight -= 1
            self.processed += 1
            if self._in_flight == 0:
                self._quiet.set()
            async with self._done:
                self._done.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def wait_quiet(self) -> None:
        await self._quiet.wait()

    async def wait_processed(self, count: int) -> None:
        """Until at least ``count`` updates have been fully handled since start."""
        async with self._done:
            await self._done.wait_for(lambda: self.processed >= count)
