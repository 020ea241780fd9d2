"""Delivery harness: the real sender and a real PTB ``Bot`` (aiohttp transport) against
the emulator over HTTP, on the backend under test (``database_url``).

Rows are seeded straight into the outbox (as services would) and the sender is driven
directly; every figure is measured on the emulator's side of the wire.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.clock import FakeClock
from bot.delivery import DeliverySettings, OutboxSender
from bot.domain.membership import MemberStatus, Role
from bot.domain.outgoing import Outgoing, Priority
from bot.emulator import Call, Emulator
from bot.emulator.limits import LimitConfig
from bot.transport import AiohttpRequest
from storage.db import Database, open_database
from storage.models import OutboxRow, TimelineRow
from storage.outbox_store import OutboxStore
from storage.uow import uow_factory

TOKEN = "123456789:AAE_delivery_test_token_for_emulator"
FAST_LIMITS = LimitConfig(
    overall_capacity=1000,
    overall_rate=1000,
    private_capacity=100,
    private_rate=100,
    group_capacity=100,
    group_rate=100,
)
FIGURES: list[str] = []


def figure(text: str) -> None:
    """A measured figure, printed (pytest -s) and collected for the report."""
    FIGURES.append(text)
    print(f"FIGURE {text}")


class Harness:
    def __init__(self, emu: Emulator, db: Database, clock: FakeClock, bot: Bot) -> None:
        self.emu = emu
        self.db = db
        self.clock = clock
        self.bot = bot
        self.uow = uow_factory(db.sessions)
        self.senders: list[OutboxSender] = []

    # --- seeding --------------------------------------------------------------------
    async def people(
        self, count: int, *, role: Role = Role.RESPONDER, names: list[str] | None = None
    ) -> list[tuple[int, int]]:
        """``count`` active members with emulator accounts: [(telegram id, member id)]."""
        out: list[tuple[int, int]] = []
        async with self.uow() as uow:
            for i in range(count):
                name = names[i] if names else f"Member {i}"
                user = self.emu.add_user(first_name=name)
                member = await uow.members.add(
                    telegram_id=user.id,
                    name=name,
                    role=role,
                    org_id=None,
                    status=MemberStatus.ACTIVE,
                    registration_step=None,
                    created_at=self.clock.now(),
                )
                out.append((user.id, member.id))
            await uow.commit()
        return out

    async def enqueue(self, messages: list[Outgoing]) -> list[int]:
        async with self.uow() as uow:
            ids = [await uow.outbox.add(m, at=self.clock.now()) for m in messages]
            await uow.commit()
        return ids

    @staticmethod
    def alert(
        chat_id: int, member_id: int | None, text: str = "Alert card", incident: int | None = None
    ) -> Outgoing:
        message = Outgoing.text(
            chat_id,
            text,
            protect_content=True,
            priority=Priority.ALERT,
            recipient_member_id=member_id,
            kind="alert",
        )
        return replace(message, incident_id=incident)

    # --- the sender -------------------------------------------------------------------
    async def start_sender(self, **overrides: Any) -> OutboxSender:
        sender = OutboxSender(
            store=OutboxStore(self.db),
            bot=self.bot,
            settings=replace(DeliverySettings(), **overrides),
            clock=self.clock,
        )
        await sender.start()
        self.senders.append(sender)
        return sender

    # --- observing -----------------------------------------------------------------------
    def sends(self, method: str = "sendMessage") -> list[Call]:
        """Requests of ``method`` the emulator answered 200 or stored (dropped answers)."""
        return [
            c
            for c in self.emu.calls
            if c.method.lower() == method.lower() and (c.ok or c.response.get("ok"))
        ]

    def per_chat(self, method: str = "sendMessage") -> Counter[int]:
        return Counter(c.chat_id for c in self.sends(method) if c.chat_id is not None)

    async def wait_sends(self, count: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        def enough() -> bool:
            return len(self.sends()) >= count

        await self.emu.wait_for(enough, timeout)

    async def rows(self) -> dict[int, OutboxRow]:
        async with self.db.sessions() as s:
            return {r.id: r for r in (await s.execute(select(OutboxRow))).scalars()}

    async def settled(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Until no row is pending or being sent."""

        async def quiet() -> bool:
            counts = await OutboxStore(self.db).counts()
            return not counts.get("pending") and not counts.get("sending")

        await self.until(quiet, timeout)

    async def events(self, action: str) -> list[TimelineRow]:
        async with self.db.sessions() as s:
            query = select(TimelineRow).where(TimelineRow.action == action)
            return list((await s.execute(query.order_by(TimelineRow.id))).scalars())

    async def until(
        self,
        check: Callable[[], Awaitable[bool]],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> float:
        """Poll a DB condition (the emulator cannot see the DB); returns seconds taken."""
        import asyncio

        start = time.monotonic()
        while not await check():
            if time.monotonic() - start > timeout:
                raise TimeoutError("condition still false")
            await asyncio.sleep(0.02)
        return time.monotonic() - start


def violations(calls: list[Call], slack: float = 0.05) -> list[tuple[Call, Call]]:
    """Requests received inside an active retry window, seen from the server: after the
    429 answer left (plus ``slack`` for requests the bot had already sent before it could
    read that answer) and before ``received + retry_after``. The exact, client-side
    check is :func:`grants_in_pauses`."""
    bad: list[tuple[Call, Call]] = []
    for c429 in (c for c in calls if c.status == 429):
        end = c429.received + float(c429.response["parameters"]["retry_after"])
        for other in calls:
            if other is not c429 and c429.answered + slack < other.received < end:
                bad.append((c429, other))
    return bad


def grants_in_pauses(sender: OutboxSender) -> list[float]:
    """Sends the pacer let through while a pause it knew of was active (must be none)."""
    pauses = list(sender.pacer.pauses)
    return [g for g in sender.pacer.grants if any(a < g < b for a, b in pauses)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 6, 15, 0, tzinfo=UTC))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def limit_config() -> LimitConfig | None:
    """Telegram's real limits (30/s overall, 1/s per chat) unless a test overrides it."""
    return None


@pytest.fixture
async def emu(clock: FakeClock, limit_config: LimitConfig | None) -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN, clock=clock, limit_config=limit_config) as emulator:
        yield emulator


@pytest.fixture
async def harness(emu: Emulator, db: Database, clock: FakeClock) -> AsyncIterator[Harness]:
    bot = Bot(
        TOKEN,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=AiohttpRequest(connection_pool_size=16),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    async with bot:
        h = Harness(emu, db, clock, bot)
        try:
            yield h
        finally:
            for sender in h.senders:
                await sender.stop(grace_seconds=2)
