"""The outbox sender: the only code that sends anything to Telegram.

It claims due rows under a lease (at most ``concurrency`` unfinished at a time, alerts
first), sends them at a smooth pace (a global rate and per-chat buckets mirroring
Telegram's limits; one chat's messages in order), and records each outcome:

* 429: every send pauses for ``retry_after`` (Telegram's limit is bot-wide), then the
  same row is sent again (kept under its lease when the wait is short).
* connect failures and 5xx: certainly not delivered; exponential backoff with jitter
  (base, 2×, 4× … capped), bot-wide, so an API outage costs one request per backoff step.
* read timeouts and dropped connections: Telegram may have delivered; retried at most once
  more, flagged ``delivery_uncertain`` and audited (a duplicate is better than a lost alert).
* 403: the recipient is unreachable; the row fails, the chat's other queued rows fail
  without an attempt, the member is flagged, and coordinators get ONE notice per batch.
* other 400s: dead-lettered, admins get ONE notice per batch (never the content);
  "message is not modified" counts as done; a failed delete fails quietly.
* a group upgraded to a supergroup: the row (and the registered group) moves to the new
  chat id and is sent there.
* a recipient who is no longer an active member: the row is cancelled, never sent.

Clocks: ``sent_at`` is the domain clock's (retraction decides "under 48 h" from it);
pacing, leases, ``not_before`` and backoff use real time (wall clock for the stored
columns, the event loop's monotonic clock for waits).

When every attempt has failed for ``degraded_after_seconds`` one ERROR "delivery degraded"
line is logged (the operator alarm), and one "delivery recovered" line when a send works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import deque
from datetime import datetime, timedelta

from telegram import (
    Bot,
    Message,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.bot_api import call_bot
from bot.clock import Clock, SystemClock
from bot.pacing import DeliverySettings, Pacer, Stopped
from bot.services import delivery_events
from bot.services.context import SecureIds, ServiceContext
from bot.services.delivery_events import Rejected, Unreachable
from bot.transport import delivery_uncertain
from storage.outbox_store import Claimed, OutboxStore
from storage.uow import uow_factory

log = logging.getLogger(__name__)


def _wall() -> datetime:
    """Real time, for leases and retry schedules (the domain clock may be a fake one)."""
    return SystemClock().now()


# After a 403 the chat's other queued rows fail without an attempt; rows already claimed
# from the database while that happens are caught for this long. A user who unblocks the
# bot within these seconds and writes to it gets the bot's next message normally after.
FORBIDDEN_MEMORY_SECONDS = 10.0
PACED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendLocation",
        "sendVenue",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    }
)
QUIET_FAILURES = (
    "message to delete not found",
    "message can't be deleted",
    "message to edit not found",
)


def _is_server_error(exc: NetworkError) -> bool:
    """An HTTP 5xx answer (PTB raises a plain NetworkError with the server's description).

    The transport's own errors are subclasses, or plain NetworkErrors whose text starts
    with the aiohttp error; those may have reached Telegram.
    """
    if type(exc) is not NetworkError:
        return False
    text = str(exc)
    return not text.startswith(("Invalid response", "aiohttp.", "Unknown error in HTTP"))


def _reason(exc: Exception) -> str:
    """Telegram's error text without anything taken from the message itself."""
    text = str(exc).strip()
    text = text.split(":", 1)[0] if text.lower().startswith("can't parse") else text
    return text[:80]


class OutboxSender:
    def __init__(
        self,
        *,
        store: OutboxStore,
        bot: Bot,
        settings: DeliverySettings | None = None,
        instance: str = "local",
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.settings = settings or DeliverySettings()
        self.instance = instance
        self.owner = f"{instance}:{uuid.uuid4().hex[:12]}"
        self.clock: Clock = clock or SystemClock()
        self.events = ServiceContext(
            uow=uow_factory(store.db.sessions, on_outbox_commit=self.wake),
            clock=self.clock,
            ids=SecureIds(),
        )
        self._stopping = asyncio.Event()
        self.pacer = Pacer(self.settings, self._stopping)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[int, Claimed] = {}
        self._started: set[int] = set()
        self._chat_queues: dict[int, deque[Claimed]] = {}
        self._chat_tasks: dict[int, asyncio.Task[None]] = {}
        self._unreachable: list[Unreachable] = []
        # chat id -> loop time of its 403: rows claimed in the moments before the chat's
        # pending rows were failed must not be attempted either (see _send_one).
        self._forbidden_at: dict[int, float] = {}
        self._rejected: list[Rejected] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._fail_streak = 0
        self._fail_pause_until = 0.0
        self._failing_since: float | None = None
        self._degraded = False
        self._last_error = ""
        self.sent_count = 0
        self.stopped_claiming_at: float | None = None

    # --- public -----------------------------------------------------------------------
    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self) -> None:
        """Until a claim has found nothing due since the last wake (tests, shutdown)."""
        await self._idle.wait()

    @property
    def degraded(self) -> bool:
        return self._degraded

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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, max(deadline - loop.time(), 0.1))
            self._task = None
        workers = list(self._chat_tasks.values())
        if workers:
            _, pending = await asyncio.wait(workers, timeout=max(deadline - loop.time(), 0.0))
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        uncertain = set(self._started)
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
            self._flush_task = None
        await self._flush_notices()
        released = await self.store.release(owner=self.owner, uncertain_ids=uncertain)
        if released:
            log.info("outbox: released %d claimed messages for the next start", released)

    # --- the claim loop -----------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_recovery = 0.0
        next_sweep = 0.0
        while not self._stopping.is_set():
            free = self.settings.concurrency - len(self._inflight)
            try:
                now = loop.time()
                if now >= next_recovery:
                    await self.store.recover_expired(now=_wall())
                    next_recovery = now + min(5.0, self.settings.lease_seconds / 4)
                if now >= next_sweep:
                    cancelled = await self.store.cancel_revoked()
                    if cancelled:
                        log.info("outbox: cancelled %d messages to former members", cancelled)
                    next_sweep = now + self.settings.revocation_sweep_seconds
                self._check_degraded()
                if free <= 0:
                    await self._pause_for(self.settings.revocation_sweep_seconds)
                    continue
                if self._stopping.is_set():
                    break
                wall = _wall()
                batch = await self.store.claim(
                    owner=self.owner,
                    now=wall,
                    lease_until=wall + timedelta(seconds=self.settings.lease_seconds),
                    limit=free,
                )
            except Exception:
                log.exception("outbox: could not claim messages; will retry")
                await self._pause_for(min(5.0, self.settings.max_backoff_seconds / 10))
                continue
            if self._stopping.is_set():
                # Claimed just as stop() was called: give them straight back.
                break
            if not batch:
                if not self._inflight and not self._wake.is_set():
                    self._idle.set()
                await self._pause_for(await self._idle_time())
                continue
            for row in batch:
                self._inflight[row.id] = row
                queue = self._chat_queues.setdefault(row.chat_id, deque())
                queue.append(row)
                if row.chat_id not in self._chat_tasks:
                    self._chat_tasks[row.chat_id] = asyncio.create_task(
                        self._chat_worker(row.chat_id), name=f"outbox-chat-{row.chat_id}"
                    )
        self.stopped_claiming_at = loop.time()

    async def _idle_time(self) -> float:
        try:
            due = await self.store.next_due()
        except Exception:
            log.exception("outbox: could not read the next due time")
            return self.settings.idle_poll_seconds
        poll = min(self.settings.idle_poll_seconds, self.settings.revocation_sweep_seconds)
        if due is None:
            return poll
        return min(max((due - _wall()).total_seconds(), 0.005), poll)

    async def _pause_for(self, seconds: float) -> None:
        if self._wake.is_set():
            self._wake.clear()
            return
        stop = asyncio.ensure_future(self._stopping.wait())
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stop, wake}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            stop.cancel()
            wake.cancel()
        self._wake.clear()

    # --- per chat ------------------------------------------------------------------------
    async def _chat_worker(self, chat_id: int) -> None:
        queue = self._chat_queues[chat_id]
        try:
            while queue:
                row = queue[0]
                try:
                    if not self._stopping.is_set():
                        await self._send_one(row)
                except Stopped:
                    pass  # released by stop()
                except Exception:
                    log.exception("outbox: unexpected failure handling message %d", row.id)
                finally:
                    queue.popleft()
                    self._inflight.pop(row.id, None)
                    self._wake.set()  # a slot is free
        finally:
            self._chat_queues.pop(chat_id, None)
            self._chat_tasks.pop(chat_id, None)

    async def _drop_queued(self, chat_id: int, error: str) -> None:
        """After a 403, the chat's other claimed rows fail without an attempt."""
        queue = self._chat_queues.get(chat_id)
        if not queue:
            return
        head = queue[0]
        for row in list(queue)[1:]:
            queue.remove(row)
            self._inflight.pop(row.id, None)
            await self.store.give_up(row.id, owner=self.owner, status="failed", error=error)
        assert queue[0] is head  # noqa: S101 - the row being handled stays first

    async def _requeue_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """The chat's other claimed rows go back to pending under the new chat id."""
        queue = self._chat_queues.get(old_chat_id)
        if not queue:
            return
        for row in list(queue)[1:]:
            queue.remove(row)
            self._inflight.pop(row.id, None)
            await self.store.retry_later(
                row.id,
                owner=self.owner,
                not_before=_wall(),
                error="group chat was upgraded to a supergroup chat",
                chat_id=new_chat_id,
            )

    async def _send_one(self, row: Claimed) -> None:
        while True:
            await self.pacer.acquire(row.chat_id, counts_for_chat=row.method in PACED_METHODS)
            if row.recipient_member_id is not None and not await self.store.recipient_active(
                row.recipient_member_id
            ):
                await self.store.give_up(
                    row.id,
                    owner=self.owner,
                    status="cancelled",
                    error="recipient is no longer active",
                )
                return
            if self._stopping.is_set():
                raise Stopped
            if self._recently_forbidden(row.chat_id):
                await self.store.give_up(
                    row.id, owner=self.owner, status="failed", error="chat unreachable (403)"
                )
                return
            self._started.add(row.id)
            try:
                result = await call_bot(self.bot, row)
            except RetryAfter as exc:
                self._started.discard(row.id)
                seconds = _seconds(exc.retry_after)
                self.pacer.pause(seconds)
                log.debug("outbox: 429, every send paused for %.1fs", seconds)
                if seconds <= self.settings.lease_seconds / 2:
                    continue  # the pacer holds every send, this one included, until it passes
                await self._retry(row, seconds, f"429 retry after {seconds:g}s")
                return
            except ChatMigrated as exc:
                self._started.discard(row.id)
                new_chat = int(exc.new_chat_id)
                await self.store.migrate_chat(
                    row.id,
                    owner=self.owner,
                    old_chat_id=row.chat_id,
                    new_chat_id=new_chat,
                    not_before=_wall(),
                )
                await self._requeue_migrated(row.chat_id, new_chat)
                log.warning("outbox: a group chat moved to a new id (supergroup); following it")
                self._note_success()
                return
            except Forbidden as exc:
                self._started.discard(row.id)
                await self._unreachable_row(row, exc)
                self._note_success()
                return
            except BadRequest as exc:
                self._started.discard(row.id)
                await self._bad_request(row, exc)
                self._note_success()
                return
            except NetworkError as exc:
                self._started.discard(row.id)
                await self._network_error(row, exc)
                return
            except Exception as exc:
                self._started.discard(row.id)
                log.exception("outbox: unexpected error sending message %d", row.id)
                await self._retry(row, self._backoff(row.attempts), repr(exc)[:200])
                return
            self._started.discard(row.id)
            message_id = result.message_id if isinstance(result, Message) else None
            await self.store.mark_sent(
                row.id,
                owner=self.owner,
                message_id=message_id,
                at=self.clock.now(),
                recipient_member_id=row.recipient_member_id,
            )
            self.sent_count += 1
            self._note_success()
            return

    # --- outcomes ------------------------------------------------------------------------
    def _recently_forbidden(self, chat_id: int) -> bool:
        at = self._forbidden_at.get(chat_id)
        if at is None:
            return False
        if asyncio.get_running_loop().time() - at < FORBIDDEN_MEMORY_SECONDS:
            return True
        del self._forbidden_at[chat_id]
        return False

    async def _unreachable_row(self, row: Claimed, exc: Forbidden) -> None:
        # Before any await: a row of this chat claimed while the ones below run is caught.
        self._forbidden_at[row.chat_id] = asyncio.get_running_loop().time()
        reason = _reason(exc)
        await self.store.give_up(row.id, owner=self.owner, status="failed", error=str(exc))
        await self._drop_queued(row.chat_id, f"chat unreachable: {reason}")
        await self.store.fail_pending_for_chat(row.chat_id, error=f"chat unreachable: {reason}")
        log.info("outbox: chat unreachable (403) for message %d", row.id)
        failure = Unreachable(
            outbox_id=row.id,
            chat_id=row.chat_id,
            member_id=row.recipient_member_id,
            incident_id=row.incident_id,
            reason=reason,
        )
        try:
            await delivery_events.recipient_unreachable(self.events, failure)
        except Exception:
            log.exception("outbox: could not record an unreachable recipient")
        if not delivery_events.is_alarm(row.kind):
            self._unreachable.append(failure)
            self._schedule_flush()

    async def _bad_request(self, row: Claimed, exc: BadRequest) -> None:
        text = str(exc).lower()
        if "message is not modified" in text:
            await self.store.mark_sent(
                row.id, owner=self.owner, message_id=None, at=self.clock.now()
            )
            return
        if any(quiet in text for quiet in QUIET_FAILURES):
            await self.store.give_up(row.id, owner=self.owner, status="failed", error=str(exc))
            return
        await self.store.give_up(row.id, owner=self.owner, status="dead", error=str(exc))
        log.warning("outbox: message %d (%s) rejected by Telegram for good", row.id, row.kind)
        failure = Rejected(
            outbox_id=row.id,
            chat_id=row.chat_id,
            kind=row.kind,
            reason=_reason(exc),
            incident_id=row.incident_id,
        )
        try:
            await delivery_events.message_rejected(self.events, failure)
        except Exception:
            log.exception("outbox: could not record a rejected message")
        if not delivery_events.is_alarm(row.kind):
            self._rejected.append(failure)
            self._schedule_flush()

    async def _network_error(self, row: Claimed, exc: NetworkError) -> None:
        uncertain = not _is_server_error(exc) and delivery_uncertain(exc)
        if uncertain:
            gave_up = row.delivery_uncertain
            if gave_up:
                # Already resent once after an ambiguous failure: do not multiply copies.
                await self.store.give_up(
                    row.id,
                    owner=self.owner,
                    status="failed",
                    error=f"uncertain twice: {exc}",
                    uncertain=True,
                )
            else:
                await self._retry(row, self._base_delay(), str(exc), uncertain=True)
            try:
                await delivery_events.delivery_uncertain(
                    self.events,
                    outbox_id=row.id,
                    chat_id=row.chat_id,
                    incident_id=row.incident_id,
                    gave_up=gave_up,
                )
            except Exception:
                log.exception("outbox: could not audit an uncertain delivery")
            self._note_failure(str(exc))
            return
        delay = self._note_failure(str(exc))
        await self._retry(row, delay, str(exc))

    # --- failure streaks, backoff, the operator alarm -------------------------------------
    def _base_delay(self) -> float:
        return self.settings.backoff_base_seconds * random.uniform(0.8, 1.2)  # noqa: S311

    def _backoff(self, step: int) -> float:
        base = min(
            self.settings.max_backoff_seconds,
            self.settings.backoff_base_seconds * 2.0 ** max(step - 1, 0),
        )
        return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security

    def _note_failure(self, error: str) -> float:
        """Count one failure of the API; returns (and applies bot-wide) the backoff."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._failing_since is None:
            self._failing_since = now
        if now >= self._fail_pause_until:
            # Failures of requests sent before this pause began do not escalate it.
            self._fail_streak += 1
            delay = self._backoff(self._fail_streak)
            self._fail_pause_until = now + delay
            self.pacer.pause(delay)
        else:
            delay = self._fail_pause_until - now
        self._last_error = error[:200]
        self._check_degraded()
        return delay

    def _note_success(self) -> None:
        if self._failing_since is None:
            return
        loop = asyncio.get_running_loop()
        if self._degraded:
            log.warning(
                "delivery recovered: Telegram accepts messages again after %.0fs of failures",
                loop.time() - self._failing_since,
            )
        self._failing_since = None
        self._degraded = False
        self._fail_streak = 0
        self._fail_pause_until = 0.0

    def _check_degraded(self) -> None:
        if self._failing_since is None or self._degraded:
            return
        elapsed = asyncio.get_running_loop().time() - self._failing_since
        if elapsed >= self.settings.degraded_after_seconds:
            self._degraded = True
            log.error(
                "delivery degraded: every attempt to reach Telegram has failed for %.0fs "
                "(last error: %s); messages wait in the outbox and are retried with backoff",
                elapsed,
                self._last_error or "unknown",
            )

    async def _retry(
        self, row: Claimed, seconds: float, error: str, *, uncertain: bool = False
    ) -> None:
        await self.store.retry_later(
            row.id,
            owner=self.owner,
            not_before=_wall() + timedelta(seconds=seconds),
            error=error,
            uncertain=uncertain,
        )

    # --- batched notices ------------------------------------------------------------------
    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_later(), name="outbox-notices")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.settings.notice_batch_seconds)
        await self._flush_notices()

    async def _flush_notices(self) -> None:
        unreachable, self._unreachable = self._unreachable, []
        rejected, self._rejected = self._rejected, []
        try:
            if unreachable:
                await delivery_events.report_unreachable(self.events, unreachable)
            if rejected:
                await delivery_events.report_rejected(self.events, rejected)
        except Exception:
            log.exception("outbox: could not queue delivery notices")


def _seconds(value: object) -> float:
    if isinstance(value, timedelta):
        return max(value.total_seconds(), 0.0)
    return max(float(value), 0.0)  # type: ignore[arg-type]
