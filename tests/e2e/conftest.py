"""End-to-end harness: the real PTB Application, polling the built-in emulator over HTTP.

``World`` drives people through the bot and waits on events (updates processed,
outbox drained), never on sleeps.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import Homeward, build_app
from bot.clock import FakeClock
from bot.domain.membership import MemberStatus, OrgKind, Role, ServiceArea
from bot.emulator import Emulator, EmuMessage
from bot.emulator.limits import LimitConfig
from bot.services import members
from bot.settings import AreaSettings, load_settings
from tests.fakes.nominatim import FakeNominatim

TOKEN = "123456789:AAE_e2e_test_token_for_the_emulator_x"
TIMEOUT = 10.0
FAST_LIMITS = LimitConfig(
    private_capacity=100, private_rate=100, group_capacity=100, group_rate=100
)


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str


class World:
    def __init__(self, emulator: Emulator, homeward: Homeward, clock: FakeClock) -> None:
        self.emu = emulator
        self.hw = homeward
        self.clock = clock
        self._first_update_id = emulator.state.next_update_id

    async def restart(self) -> None:
        """Stop the bot and start a fresh process-equivalent on the same database."""
        settings = self.hw.settings
        await self.hw.stop()
        self.hw = quiet_scheduler(build_app(settings, clock=self.clock))
        self._first_update_id = self.emu.state.next_update_id
        await self.hw.start()
        await first_tick(self.hw)

    # People ----------------------------------------------------------------------------
    def person(self, name: str, username: str | None = None) -> Person:
        first, _, last = name.partition(" ")
        user = self.emu.add_user(first_name=first, last_name=last or None, username=username)
        return Person(user.id, name)

    async def member(
        self,
        name: str,
        role: Role,
        org_id: int | None,
        *,
        area: tuple[float, float, float] | None = (46.49, -80.99, 25.0),
        username: str | None = None,
    ) -> Person:
        """Seed an already-vetted member directly (setup for journeys beyond membership)."""
        person = self.person(name, username=username)
        async with self.hw.ctx.uow() as uow:
            member = await uow.members.add(
                telegram_id=person.user_id,
                name=name,
                role=role,
                org_id=org_id,
                status=MemberStatus.ACTIVE,
                registration_step=None,
                created_at=self.clock.now(),
            )
            if area is not None:
                await uow.members.update_registration(
                    member.id,
                    step=None,
                    area=ServiceArea(latitude=area[0], longitude=area[1], radius_km=area[2]),
                )
            await uow.commit()
        return person

    async def org(self, kind: OrgKind, name: str, point: tuple[float, float] | None = None) -> int:
        org = await members.create_org(
            self.hw.ctx,
            actor_telegram_id=None,
            kind=kind,
            name=name,
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
        )
        return org.id

    async def send_photo(self, person: Person, data: bytes) -> list[EmuMessage]:
        before = self._last_id(person.user_id)
        self.emu.send_photo(person.user_id, data)
        await self.settle()
        return self._new_bot_messages(person.user_id, before)

    async def answer(self, person: Person, *steps: str | tuple[float, float] | bytes) -> EmuMessage:
        """Answer a form: text, a location tuple, or ``"[Label]"`` to press a button on the
        last question. Returns the bot's last message."""
        existing = self.emu.bot_messages(person.user_id)
        last: EmuMessage | None = existing[-1] if existing else None
        for step in steps:
            if isinstance(step, tuple):
                replies = await self.share_location(person, *step)
            elif isinstance(step, bytes):
                replies = await self.send_photo(person, step)
            elif step.startswith("[") and step.endswith("]"):
                assert last is not None
                replies, _ = await self.press(person, last, step[1:-1])
            else:
                replies = await self.say(person, step)
            assert replies, f"no reply to {step!r}"
            last = replies[-1]
        assert last is not None
        return last

    async def admin(self, name: str = "Alex Admin") -> Person:
        person = self.person(name, username="alex_admin")
        await members.add_admin(self.hw.ctx, telegram_id=person.user_id, name=name)
        await self.settle()
        return person

    # Driving ---------------------------------------------------------------------------
    def _last_id(self, chat_id: int) -> int:
        messages = self.emu.messages(chat_id)
        return max((m.message_id for m in messages), default=0)

    def _new_bot_messages(self, chat_id: int, after: int) -> list[EmuMessage]:
        return [m for m in self.emu.bot_messages(chat_id) if m.message_id > after]

    async def settle(self) -> None:
        """Until every update the emulator produced is handled and the outbox is drained.

        Sending can produce updates (leaving a group does), so this repeats until quiet.
        """
        while True:
            produced = self.emu.state.next_update_id - self._first_update_id
            await asyncio.wait_for(self.hw.processor.wait_processed(produced), TIMEOUT)
            self.hw.sender.wake()
            await asyncio.wait_for(self.hw.sender.wait_idle(), TIMEOUT)
            if self.emu.state.next_update_id - self._first_update_id == produced:
                return

    async def say(self, person: Person, text: str, chat_id: int | None = None) -> list[EmuMessage]:
        chat = chat_id if chat_id is not None else person.user_id
        before = self._last_id(chat)
        self.emu.send_text(person.user_id, text, chat_id=chat_id)
        await self.settle()
        return self._new_bot_messages(chat, before)

    async def share_location(self, person: Person, lat: float, lon: float) -> list[EmuMessage]:
        before = self._last_id(person.user_id)
        self.emu.send_location(person.user_id, lat, lon)
        await self.settle()
        return self._new_bot_messages(person.user_id, before)

    async def press_data(
        self, person: Person, message: EmuMessage, data: str
    ) -> tuple[list[EmuMessage], dict[str, Any]]:
        before = self._last_id(person.user_id)
        update = self.emu.press_button(
            person.user_id, message.message_id, data, chat_id=message.chat_id
        )
        await self.settle()
        record = self.emu.callback_answers.get(update["callback_query"]["id"], {})
        answer = record.get("answer") or {}
        return self._new_bot_messages(person.user_id, before), answer

    async def press(
        self, person: Person, message: EmuMessage, label: str
    ) -> tuple[list[EmuMessage], dict[str, Any]]:
        return await self.press_data(person, message, button_data(message, label))

    # Journeys --------------------------------------------------------------------------
    async def invite(self, inviter: Person, role_label: str, org_name: str) -> str:
        [pick_role] = await self.say(inviter, "/invite")
        [pick_org], _ = await self.press(inviter, pick_role, role_label)
        [created], _ = await self.press(inviter, pick_org, org_name)
        match = re.search(r"start=([A-Za-z0-9_-]+)", created.text or "")
        assert match, created.text
        return match.group(1)

    async def register(
        self,
        person: Person,
        code: str,
        *,
        name: str | None = None,
        location: tuple[float, float] = (46.49, -80.99),
        radius_label: str = "25 km",
    ) -> list[EmuMessage]:
        [welcome] = await self.say(person, f"/start {code}")
        assert "What name" in (welcome.text or ""), welcome.text
        [confirm] = await self.say(person, name or person.name)
        [area], _ = await self.press(person, confirm, "Yes")
        assert "Where do you work" in (area.text or "")
        [radius] = await self.share_location(person, *location)
        done, _ = await self.press(person, radius, radius_label)
        return done

    def vet_card_for(self, vetter: Person, name: str) -> EmuMessage:
        cards = [
            m
            for m in self.emu.bot_messages(vetter.user_id)
            if "waiting for approval" in (m.text or "") and name in (m.text or "")
        ]
        assert cards, f"no vetting card for {name} in {vetter.name}'s chat"
        return cards[-1]

    async def join(
        self,
        inviter: Person,
        person: Person,
        role_label: str,
        org: str,
        approver: Person | None = None,
    ) -> None:
        code = await self.invite(inviter, role_label, org)
        await self.register(person, code)
        approver = approver or inviter
        await self.press(approver, self.vet_card_for(approver, person.name), "Approve")


def quiet_scheduler(homeward: Homeward) -> Homeward:
    """The timer loop still ticks once as the bot starts (catching up, as in production),
    but not again every second: tests tick it themselves (``hw.scheduler.tick()``) after
    moving the fake clock, so no timer fires in the middle of a conversation."""
    homeward.scheduler.tick_seconds = 3600.0
    return homeward


async def first_tick(homeward: Homeward) -> None:
    """Wait for the start-up tick, so that it cannot land in the middle of a conversation
    (a timer armed by the test's first steps, due at once, would fire inside it)."""
    await asyncio.wait_for(homeward.scheduler.wait_until(lambda s: s.ticks >= 1), TIMEOUT)


def button_data(message: EmuMessage, label: str) -> str:
    markup = message.reply_markup or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if button.get("text") == label:
                return str(button["callback_data"])
    labels = [b.get("text") for row in markup.get("inline_keyboard", []) for b in row]
    raise AssertionError(f"no button {label!r} on message; buttons: {labels}")


@pytest.fixture
async def emulator(clock: FakeClock) -> AsyncIterator[Emulator]:
    # Telegram's real per-chat pace (1/s) would make every journey crawl; the limits
    # themselves are proven in tests/emulator and the delivery tests.
    emu = Emulator(
        token=TOKEN, bot_username="homeward_test_bot", clock=clock, limit_config=FAST_LIMITS
    )
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


ADDRESSES = {
    "100 Elm Street, Sudbury": (46.4917, -80.9930, "100 Elm Street, Sudbury, Ontario"),
    "Union Station, Toronto": (43.6453, -79.3806, "Union Station, Toronto, Ontario"),
}


@pytest.fixture
async def nominatim() -> AsyncIterator[FakeNominatim]:
    async with FakeNominatim(ADDRESSES) as fake:
        yield fake


@pytest.fixture
async def world(
    emulator: Emulator, database_url: str, clock: FakeClock, nominatim: FakeNominatim
) -> AsyncIterator[World]:
    settings = load_settings(
        None,
        telegram={
            "token": SecretStr(TOKEN),
            "base_url": emulator.base_url,
            "base_file_url": emulator.base_file_url,
            "poll_timeout_seconds": 5,
        },
        database={"url": SecretStr(database_url)},
        delivery={"per_chat_per_second": 100, "per_chat_burst": 100, "group_per_minute": 1000},
        geocoding=nominatim.settings().model_dump(),
        membership={
            "areas": [
                AreaSettings(name="Greater Sudbury", latitude=46.49, longitude=-80.99, radius_km=40)
            ],
        },
    )
    homeward = quiet_scheduler(build_app(settings, clock=clock))
    await homeward.start()
    await first_tick(homeward)
    world = World(emulator, homeward, clock)
    try:
        yield world
    finally:
        await world.hw.stop()
