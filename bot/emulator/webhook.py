"""Pushes pending updates to the webhook, one at a time and in order, like Telegram.

A delivery succeeds on any 2xx answer; anything else (or a connection error or a
timeout) keeps the update and retries after a backoff that doubles from
``BACKOFF_START`` up to ``BACKOFF_MAX`` seconds. Setting or deleting the webhook, or a
new update, wakes an idle pusher.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiohttp

from bot.emulator.state import State, ts

BACKOFF_START = 0.05
BACKOFF_MAX = 2.0
DELIVERY_TIMEOUT = 10.0


@dataclass
class Delivery:
    update_id: int
    url: str
    status: int  # 0 = connection error / timeout
    error: str | None = None


class WebhookPusher:
    def __init__(self, state: State) -> None:
        self.state = state
        self.deliveries: list[Delivery] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT), trust_env=False
        )
        self._task = asyncio.create_task(self._run(), name="emulator-webhook-pusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        backoff = BACKOFF_START
        while True:
            hook = self.state.webhook
            if hook is None or not self.state.pending:
                await self.state.change_event().wait()
                continue
            pending = self.state.pending[0]
            ok = await self._deliver(hook["url"], hook.get("secret_token"), pending.update)
            if ok:
                backoff = BACKOFF_START
                if self.state.pending and self.state.pending[0] is pending:
                    self.state.pending.pop(0)
                self.state.notify()
            else:
                self.state.notify()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    async def _deliver(self, url: str, secret: str | None, update: dict[str, object]) -> bool:
        assert self._session is not None  # noqa: S101 - started before running
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        update_id = int(str(update["update_id"]))
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._failed(update_id, url, 0, type(exc).__name__)
            return False
        if 200 <= status < 300:
            self.deliveries.append(Delivery(update_id, url, status))
            return True
        self._failed(update_id, url, status, f"Wrong response from the webhook: {status}")
        return False

    def _failed(self, update_id: int, url: str, status: int, message: str) -> None:
        self.deliveries.append(Delivery(update_id, url, status, message))
        hook = self.state.webhook
        if hook is not None:
            hook["last_error_date"] = ts(self.state.clock.now())
            hook["last_error_message"] = message
