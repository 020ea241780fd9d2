"""The app factory: wires settings, storage, services, handlers and delivery together.

Nothing here runs at import time; :func:`build_app` builds a fresh, independent
instance (tests build one per test).
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

import handlers
from bot.clock import Clock, SystemClock
from bot.delivery import DeliverySettings, OutboxSender
from bot.geocoding import ManagedGeocoder, build_geocoder
from bot.scheduler import Scheduler
from bot.services import menus
from bot.services.context import SecureIds, ServiceContext
from bot.services.ports import IdSource
from bot.settings import ConfigError, Settings
from bot.transport import AiohttpRequest
from bot.updates import TrackingUpdateProcessor
from bot.webhook import WebhookServer
from storage.db import Database, StorageError, check_sqlite, open_database, sqlite_path
from storage.inbox_store import InboxStore
from storage.migrate import schema_is_current
from storage.outbox_store import OutboxStore
from storage.uow import uow_factory

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message says what to do."""


@dataclass
class Homeward:
    settings: Settings
    db: Database
    ctx: ServiceContext
    application: Application[Any, Any, Any, Any, Any, Any]
    sender: OutboxSender
    store: OutboxStore
    processor: TrackingUpdateProcessor
    geocoder: ManagedGeocoder
    scheduler: Scheduler
    requests: tuple[AiohttpRequest, ...] = ()
    webhook: WebhookServer | None = None
    _lock: IO[str] | None = field(default=None, repr=False)
    _started: bool = False

    async def preflight(self) -> None:
        """Refuse to start on an out-of-date schema or an unsafe SQLite file."""
        url = self.settings.database.url.get_secret_value()
        try:
            if not await schema_is_current(self.db):
                raise StartupError(
                    "the database schema is out of date: run `homeward db upgrade` "
                    "(with the same --config) and start again"
                )
            await check_sqlite(self.db, url)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        path = sqlite_path(url)
        if path is not None:
            self._lock = _lock_file(path)

    async def start(self, *, polling: bool = True) -> None:
        await self.preflight()
        app = self.application
        await app.initialize()
        me = app.bot.bot
        if me.can_read_all_group_messages:
            log.warning(
                "privacy mode is OFF for @%s: the bot can read every group message. "
                "Turn it on with @BotFather (/setprivacy).",
                me.username,
            )
        await self.geocoder.start()
        await app.start()
        await menus.refresh_stale(self.ctx)  # a release that adds commands re-sends menus
        await self.sender.start()
        await self.scheduler.start()
        self._started = True
        tg = self.settings.telegram
        if polling and tg.mode == "webhook":
            await self._start_webhook()
        elif polling and app.updater is not None:
            await app.updater.start_polling(
                allowed_updates=handlers.ALLOWED_UPDATES,
                timeout=self.settings.telegram.poll_timeout_seconds,
                poll_interval=0,
            )
        log.info("Homeward is running as @%s", me.username)

    async def _start_webhook(self) -> None:
        tg = self.settings.telegram
        if tg.webhook_secret is None or tg.webhook_url is None:
            raise StartupError("webhook mode needs telegram.webhook_url and webhook_secret")
        self.webhook = WebhookServer(
            application=self.application,
            inbox=InboxStore(self.db),
            clock=self.ctx.clock,
            secret=tg.webhook_secret.get_secret_value(),
            url=tg.webhook_url,
            listen=tg.webhook_listen,
            port=tg.webhook_port,
        )
        await self.webhook.start()
        await self.application.bot.set_webhook(
            url=tg.webhook_url,
            secret_token=tg.webhook_secret.get_secret_value(),
            allowed_updates=handlers.ALLOWED_UPDATES,
            max_connections=40,
        )

    async def stop(self) -> None:
        app = self.application
        try:
            if self.webhook is not None:
                await self.webhook.stop()
                self.webhook = None
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if self._started:
                await self.scheduler.stop()
                await self.sender.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        finally:
            self._started = False
            # A start that failed half-way leaves PTB's sessions open: close them here.
            for request in self.requests:
                if request.is_initialized:
                    await request.shutdown()
            await self.geocoder.close()
            await self.db.dispose()
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    async def process(self, update: Update) -> None:
        """Feed one update through the handlers (tests and the webhook use this)."""
        await self.application.process_update(update)


def _lock_file(db_path: Path) -> IO[str]:
    lock_path = db_path.with_name(db_path.name + ".lock")
    handle = lock_path.open("a")
    os.chmod(lock_path, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StartupError(
            f"another Homeward process is already using {db_path}; SQLite serves one instance "
            "(use PostgreSQL to run several)"
        ) from None
    return handle


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    instance: str | None = None,
) -> Homeward:
    token = settings.telegram.token
    if token is None:
        raise ConfigError("telegram.token: not set (run without a token to use the sandbox)")
    db = open_database(
        settings.database.url.get_secret_value(), pool_size=settings.database.pool_size
    )
    store = OutboxStore(db)
    tg = settings.telegram
    processor = TrackingUpdateProcessor(tg.concurrent_updates)
    api_request = AiohttpRequest(connection_pool_size=max(8, settings.delivery.concurrency * 2))
    poll_request = AiohttpRequest(
        connection_pool_size=2, read_timeout=tg.poll_timeout_seconds + 10.0
    )
    application = (
        ApplicationBuilder()
        .token(token.get_secret_value())
        .base_url(tg.base_url)
        .base_file_url(tg.file_url())
        .request(api_request)
        .get_updates_request(poll_request)
        .concurrent_updates(processor)
        .job_queue(None)
        .build()
    )
    sender = OutboxSender(
        store=store,
        bot=application.bot,
        settings=DeliverySettings(
            concurrency=settings.delivery.concurrency,
            rate_per_second=settings.delivery.rate_per_second,
            lease_seconds=settings.delivery.lease_seconds,
            private_chat_per_second=settings.delivery.per_chat_per_second,
            private_chat_burst=settings.delivery.per_chat_burst,
            group_per_minute=settings.delivery.group_per_minute,
        ),
        instance=instance or "local",
        clock=clock or SystemClock(),
    )
    geocoder = build_geocoder(settings.geocoding)
    ctx = ServiceContext(
        uow=uow_factory(db.sessions, on_outbox_commit=sender.wake),
        clock=clock or SystemClock(),
        ids=ids or SecureIds(),
        membership=settings.membership.policy(),
        alerts=settings.alerts.policy(),
        geocoder=geocoder,
        zone=ZoneInfo(settings.timezone),
    )
    handlers.register(application, ctx)
    return Homeward(
        settings,
        db,
        ctx,
        application,
        sender,
        store,
        processor,
        geocoder,
        Scheduler(ctx, db),
        requests=(api_request, poll_request),
    )


def service_context(
    settings: Settings, db: Database, *, clock: Clock | None = None
) -> ServiceContext:
    """Services without Telegram, for the command line (messages still go to the outbox)."""
    return ServiceContext(
        uow=uow_factory(db.sessions),
        clock=clock or SystemClock(),
        ids=SecureIds(),
        membership=settings.membership.policy(),
        alerts=settings.alerts.policy(),
        zone=ZoneInfo(settings.timezone),
    )
