"""Webhook mode: Telegram pushes updates to us; the secret header is the only origin check.

Telegram does not sign webhook payloads, so a request without the exact secret (a
constant-time comparison) is refused with 401 before its body is read, and nothing
about it is logged. An accepted update is stored in the inbox *before* Telegram is
told 200: if it cannot be stored the answer is 503 and Telegram tries again. A worker
then handles inbox updates in order; an update_id seen before is acknowledged and
dropped, so a redelivery has no second effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from storage.inbox_store import InboxStore

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1024 * 1024
KEEP_HANDLED = timedelta(hours=48)


class WebhookServer:
    def __init__(
        self,
        *,
        application: Application[Any, Any, Any, Any, Any, Any],
        inbox: InboxStore,
        clock: Clock,
        secret: str,
        url: str,
        listen: str,
        port: int,
    ) -> None:
        self.application = application
        self.inbox = inbox
        self.clock = clock
        self._secret = secret.encode()
        self.path = urlsplit(url).path or "/"
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.handled = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self._worker = asyncio.create_task(self._work(), name="webhook-inbox")
        self._wake.set()  # handle anything stored before a restart

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # stop accepting first
            self._runner = None
        self._stopping.set()
        self._wake.set()
        if self._worker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _receive(self, request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(offered, self._secret):
            return web.Response(status=401)
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
            return web.Response(status=400)
        try:
            await self.inbox.add(update_id=update_id, payload=payload, at=self.clock.now())
        except Exception:
            log.exception("webhook: could not store update %s; Telegram will retry", update_id)
            return web.Response(status=503)
        self._wake.set()
        return web.Response(status=200)

    async def _work(self) -> None:
        next_purge = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            await self._wake.wait()
            self._wake.clear()
            try:
                while not self._stopping.is_set():
                    batch = await self.inbox.pending(limit=50)
                    if not batch:
                        break
                    for item in batch:
                        try:
                            update = Update.de_json(item.payload, self.application.bot)
                        except Exception:
                            # Never retried forever, never logged: its content may be personal.
                            log.warning("webhook: dropped malformed update %s", item.update_id)
                        else:
                            # Through the update processor, like polled updates (counted,
                            # bounded), but awaited: it is marked done only once handled.
                            await self.application.update_processor.process_update(
                                update, self.application.process_update(update)
                            )
                        await self.inbox.mark_done(item.update_id, at=self.clock.now())
                        self.handled += 1
                if loop.time() >= next_purge:
                    await self.inbox.purge(before=self.clock.now() - KEEP_HANDLED)
                    next_purge = loop.time() + 3600
            except Exception:
                log.exception("webhook: could not handle stored updates; will retry")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 5)
                self._wake.set()
