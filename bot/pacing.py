"""Sending at Telegram's pace: a smooth overall rate, per-chat token buckets, and
bot-wide pauses (a 429's ``retry_after``, or an outage's backoff).

Runs on the event loop's monotonic clock, never the domain clock (a fake one in tests).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    concurrency: int = 4
    rate_per_second: float = 29.5
    private_chat_burst: int = 3
    private_chat_per_second: float = 1.0
    group_per_minute: int = 20
    lease_seconds: float = 60.0
    backoff_base_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    idle_poll_seconds: float = 1.0
    notice_batch_seconds: float = 5.0
    degraded_after_seconds: float = 120.0
    revocation_sweep_seconds: float = 0.25


class Stopped(Exception):
    """The sender is stopping: do not start another request."""


class _Bucket:
    """A token bucket on the loop's monotonic clock."""

    def __init__(self, capacity: float, per_second: float) -> None:
        self.capacity = capacity
        self.rate = per_second
        self.tokens = capacity
        self.stamp: float | None = None

    def wait_time(self, now: float) -> float:
        if self.stamp is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class Pacer:
    """Smooth global pace plus per-chat buckets; a 429 (or an outage) pauses everything."""

    def __init__(self, settings: DeliverySettings, stopping: asyncio.Event | None = None) -> None:
        self.settings = settings
        self._global_next = 0.0
        self._paused_until = 0.0
        self._chats: dict[int, _Bucket] = {}
        self._lock = asyncio.Lock()
        self._stopping = stopping or asyncio.Event()
        self._changed = asyncio.Event()
        # Recent history on the loop clock, for diagnostics and tests: when sends were
        # let through, and each pause as (began, until).
        self.grants: deque[float] = deque(maxlen=10_000)
        self.pauses: deque[tuple[float, float]] = deque(maxlen=1_000)

    def _bucket(self, chat_id: int) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:
                per_minute = self.settings.group_per_minute
                bucket = _Bucket(1, per_minute / 60.0)
            else:
                bucket = _Bucket(
                    self.settings.private_chat_burst, self.settings.private_chat_per_second
                )
            self._chats[chat_id] = bucket
        return bucket

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._paused_until = max(self._paused_until, now + seconds)
        self.pauses.append((now, now + seconds))
        self._changed.set()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early on stop() or a new pause; raise Stopped when stopping."""
        if self._stopping.is_set():
            raise Stopped
        self._changed.clear()
        stop = asyncio.ensure_future(self._stopping.wait())
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({stop, changed}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            stop.cancel()
            changed.cancel()
        if self._stopping.is_set():
            raise Stopped

    async def acquire(self, chat_id: int, *, counts_for_chat: bool) -> None:
        loop = asyncio.get_running_loop()
        if counts_for_chat:
            # One worker per chat: its bucket is waited for outside the global lock.
            while (wait := self._bucket(chat_id).wait_time(loop.time())) > 0:
                await self._sleep(wait)
        async with self._lock:
            while True:
                now = loop.time()
                wait = max(self._paused_until - now, self._global_next - now, 0.0)
                if wait <= 0:
                    break
                await self._sleep(wait)
            if self._stopping.is_set():
                raise Stopped
            if counts_for_chat:
                self._bucket(chat_id).take()
            # A steady schedule: the next slot follows the previous one, not the (slightly
            # late) moment this one was taken, so small delays do not add up over a long
            # fan-out; catching up is limited to one slot, never a burst.
            interval = 1.0 / self.settings.rate_per_second
            now = loop.time()
            self._global_next = max(self._global_next + interval, now)
            self.grants.append(loop.time())
