"""The outbox sender: the only code that sends anything to Telegram.

It claims due rows under a lease, sends them at a smooth pace (a global rate
and per-chat buckets mirroring Telegram's limits), and records each outcome:

* 429: every send pauses for ``retry_after`` (Telegram's limit is bot-wide), the row retries.
* connect failures and 5xx: exponential backoff with jitter, retried (certainly not delivered,
  or the server said it failed).
* read timeouts and dropped connections: Telegram may have delivered; retried at most once more
  and flagged ``delivery_uncertain`` (a duplicate is better than a lost alert).
* 403: the recipient is unreachable; the row fails and is not retried.
* other 400s: dead-lettered (retrying cannot fix them); "message is not modified" counts as done.
* a group upgraded to a supergroup: the row moves to the new chat id and is sent there.

Pacing uses the event loop's real clock, never the domain's (a fake clock in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.transport import delivery_uncertain
from storage.outbox_store import Claimed, OutboxStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    concurrency: int = 4
    rate_per_second: float = 25.0
    private_chat_burst: int = 3
    private_chat_per_second: float = 1.0
    group_per_minute: int = 20
    lease_seconds: float = 60.0
    max_backoff_seconds: float = 60.0
    idle_poll_seconds: float = 1.0


def _wall() -> datetime:
    return datetime.now(UTC)


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
    """Smooth global pace plus per-chat buckets; a 429 pauses everything."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self._global_next = 0.0
        self._paused_until = 0.0
        self._chats: dict[int, _Bucket] = {}
        self._lock = asyncio.Lock()

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

    def pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)

    async def acquire(self, chat_id: int, *, counts_for_chat: bool) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            while True:
                now = loop.time()
                wait = max(self._paused_until - now, self._global_next - now, 0.0)
                if counts_for_chat:
                    wait = max(wait, self._bucket(chat_id).wait_time(now))
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            if counts_for_chat:
                self._bucket(chat_id).take()
            self._global_next = loop.time() + 1.0 / self.settings.rate_per_second


PACED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendLocation",
        "sendVenue",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


class OutboxSender:
    def __init__(
        self,
        *,
        store: OutboxStore,
        bot: Bot,
        settings: DeliverySettings | None = None,
        instance: str = "local",
        now: Callable[[], datetime] = _wall,
    ) -> None:
        self.store = store
        self.bot = bot
        self.settings = settings or DeliverySettings()
        self.instance = instance
        self.owner = f"{instance}:{uuid.uuid4().hex[:12]}"
        self.now = now
        self.pacer = Pacer(self.settings)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent_count = 0

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self) -> None:
        """Until a claim has found nothing due since the last wake (tests, shutdown)."""
        await self._idle.wait()

    async def start(self) -> None:
        recovered = await self.store.recover_owner(owner_prefix=f"{self.instance}:")
        if recovered:
            log.warning(
                "outbox: %d messages were in flight when we stopped; resending, "
                "flagged as possible duplicates",
                recovered,
            )
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop claiming at once, let in-flight sends finish, release the rest."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self.store.release(owner=self.owner)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_recovery = 0.0
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_recovery:
                    await self.store.recover_expired(now=self.now())
                    next_recovery = loop.time() + min(5.0, self.settings.lease_seconds / 4)
                batch = await self.store.claim(
                    owner=self.owner,
                    now=self.now(),
                    lease_until=self.now() + timedelta(seconds=self.settings.lease_seconds),
                    limit=self.settings.concurrency,
                )
            except Exception:
                log.exception("outbox: could not claim messages; will retry")
                batch = []
                await self._pause_for(self.settings.max_backoff_seconds / 10)
                continue
            if not batch:
                if not self._wake.is_set():
                    self._idle.set()
                await self._pause_for(await self._idle_time())
                continue
            by_chat: dict[int, list[Claimed]] = defaultdict(list)
            for row in batch:
                by_chat[row.chat_id].append(row)
            await asyncio.gather(*(self._send_chat(rows) for rows in by_chat.values()))

    async def _idle_time(self) -> float:
        due = await self.store.next_due()
        if due is None:
            return self.settings.idle_poll_seconds
        return min(max((due - self.now()).total_seconds(), 0.01), self.settings.idle_poll_seconds)

    async def _pause_for(self, seconds: float) -> None:
        if self._wake.is_set():
            self._wake.clear()
            return
        stop = asyncio.ensure_future(self._stopping.wait())
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stop, wake}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            wake.cancel()

    async def _send_chat(self, rows: list[Claimed]) -> None:
        for row in rows:
            await self._send_one(row)

    async def _send_one(self, row: Claimed) -> None:
        await self.pacer.acquire(row.chat_id, counts_for_chat=row.method in PACED_METHODS)
        try:
            result = await call_bot(self.bot, row)
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self.pacer.pause(seconds)
            await self._retry(row, seconds, f"429 retry after {seconds:g}s")
        except ChatMigrated as exc:
            await self.store.retry_later(
                row.id,
                owner=self.owner,
                not_before=self.now(),
                error="chat migrated",
                chat_id=int(exc.new_chat_id),
            )
        except Forbidden as exc:
            await self.store.give_up(row.id, owner=self.owner, status="failed", error=str(exc))
            log.warning("outbox: chat unreachable (403) for message %d", row.id)
        except BadRequest as exc:
            if "message is not modified" in str(exc):
                await self.store.mark_sent(row.id, owner=self.owner, message_id=None, at=self.now())
            else:
                await self.store.give_up(row.id, owner=self.owner, status="dead", error=str(exc))
                log.error("outbox: message %d rejected by Telegram: %s", row.id, exc)
        except NetworkError as exc:
            uncertain = delivery_uncertain(exc)
            if uncertain and row.delivery_uncertain:
                # Already resent once after an ambiguous failure: do not multiply copies.
                await self.store.give_up(
                    row.id, owner=self.owner, status="failed", error=f"uncertain twice: {exc}"
                )
                return
            await self._retry(row, self._backoff(row.attempts), str(exc), uncertain=uncertain)
        except Exception as exc:
            log.exception("outbox: unexpected error sending message %d", row.id)
            await self._retry(row, self._backoff(row.attempts), repr(exc))
        else:
            message_id = result.message_id if isinstance(result, Message) else None
            await self.store.mark_sent(
                row.id, owner=self.owner, message_id=message_id, at=self.now()
            )
            self.sent_count += 1

    def _backoff(self, attempts: int) -> float:
        base = min(self.settings.max_backoff_seconds, 2.0 ** max(attempts - 1, 0))
        return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security

    async def _retry(
        self, row: Claimed, seconds: float, error: str, *, uncertain: bool = False
    ) -> None:
        await self.store.retry_later(
            row.id,
            owner=self.owner,
            not_before=self.now() + timedelta(seconds=seconds),
            error=error,
            uncertain=uncertain,
        )


def _seconds(value: object) -> float:
    if isinstance(value, timedelta):
        return max(value.total_seconds(), 0.0)
    return max(float(value), 0.0)  # type: ignore[arg-type]


async def call_bot(bot: Bot, row: Claimed) -> Any:
    """Translate an outbox row into the typed PTB call."""
    p = dict(row.params)
    markup = p.pop("reply_markup", None)
    reply_markup = InlineKeyboardMarkup.de_json(markup, bot) if markup else None
    preview = p.pop("link_preview_options", None)
    link_preview = LinkPreviewOptions(**preview) if preview else None
    chat_id = row.chat_id
    if row.method == "sendMessage":
        return await bot.send_message(
            chat_id=chat_id,
            text=p["text"],
            parse_mode=p.get("parse_mode"),
            reply_markup=reply_markup,
            protect_content=p.get("protect_content"),
            link_preview_options=link_preview,
        )
    if row.method == "editMessageText":
        return await bot.edit_message_text(
            chat_id=chat_id,
            message_id=p["message_id"],
            text=p["text"],
            parse_mode=p.get("parse_mode"),
            reply_markup=reply_markup,
            link_preview_options=link_preview,
        )
    if row.method == "editMessageReplyMarkup":
        return await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=p["message_id"], reply_markup=reply_markup
        )
    if row.method == "deleteMessage":
        return await bot.delete_message(chat_id=chat_id, message_id=p["message_id"])
    if row.method == "setMyCommands":
        return await bot.set_my_commands(
            [BotCommand(c["command"], c["description"]) for c in p["commands"]],
            scope=BotCommandScopeChat(chat_id),
        )
    if row.method == "deleteMyCommands":
        return await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    if row.method == "leaveChat":
        return await bot.leave_chat(chat_id=chat_id)
    if row.method == "sendLocation":
        return await bot.send_location(
            chat_id=chat_id,
            latitude=p["latitude"],
            longitude=p["longitude"],
            protect_content=p.get("protect_content"),
        )
    raise ValueError(f"outbox method {row.method!r} is not supported")
