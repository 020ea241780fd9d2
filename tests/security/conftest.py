"""Security and privacy scenarios (T04-T08, T32), driven through the real app and emulator.

The end-to-end fixtures (``emulator``, ``world``) are reused from ``tests/e2e``; this file
adds canary seeding and a variant of the world whose *transport* limits are lifted (for the
throughput-heavy stranger property test: Telegram's pacing is proven elsewhere, here only
what is sent matters).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from bot.app import build_app
from bot.clock import FakeClock
from bot.domain.membership import OrgKind, Role
from bot.emulator import Emulator
from bot.emulator.limits import LimitConfig
from bot.emulator.models import Call
from bot.services import invites, members
from bot.settings import AreaSettings, load_settings

# The end-to-end fixtures (emulator, world and whatever they need), re-exported so pytest
# finds them for the tests in this directory; the star keeps up with changes over there.
from tests.e2e.conftest import *  # noqa: F403
from tests.e2e.conftest import FAST_LIMITS, TOKEN, Person, World

CANARY = "CANARY"
CANARY_ADMIN = "CANARY_NAME_7f3a Admin"
CANARY_ORG = "CANARY_ORG_91c2"
CANARY_RESPONDER = "CANARY_RESP_5d1e"
CANARY_PENDING = "CANARY_PEND_e4b0 Pending"
CALLBACK_RE = re.compile(r"^t:[A-Za-z0-9_-]{22}$")
# Anything that looks like a bot token (T32).
TOKEN_RE = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")

UNLIMITED = LimitConfig(
    overall_capacity=100_000,
    overall_rate=100_000,
    private_capacity=100_000,
    private_rate=100_000,
    group_capacity=100_000,
    group_rate=100_000,
)


@dataclass
class Seed:
    """Canary personal data seeded through the real journeys."""

    admin: Person
    responder: Person
    pending: Person
    org_id: int
    pending_invite_code: str
    member_chats: set[int] = field(default_factory=set)

    def harvested_tokens(self, world: World) -> list[str]:
        """Every real callback_data the bot sent to the members (their keyboards)."""
        return sorted(set(sent_callback_data(world.emu.calls)))


async def seed_canaries(world: World) -> Seed:
    """An admin, an organisation, an approved responder, a pending registrant (with a vetting
    card still open in the admin's chat) and an unused invite, all carrying canary strings."""
    ctx = world.hw.ctx
    org = await members.create_org(
        ctx,
        actor_telegram_id=None,
        kind=OrgKind.INTERVENTION_TEAM,
        name=CANARY_ORG,
        address="CANARY_ADDR_0b7e Street",
    )
    admin = await world.admin(CANARY_ADMIN)
    responder = world.person(CANARY_RESPONDER, username="canary_resp")
    await world.join(admin, responder, "Responder", CANARY_ORG)
    pending = world.person(CANARY_PENDING)
    code = await world.invite(admin, "Coordinator", CANARY_ORG)
    await world.register(pending, code)
    unused = await invites.create(ctx, actor_telegram_id=None, role=Role.RESPONDER, org_id=org.id)
    # Members' menus and keyboards exist now: /invite leaves role buttons in the admin chat.
    await world.say(admin, "/invite")
    await world.say(admin, "/members")
    await world.say(responder, "/whoami")
    return Seed(
        admin=admin,
        responder=responder,
        pending=pending,
        org_id=org.id,
        pending_invite_code=unused.code,
        member_chats={admin.user_id, responder.user_id},
    )


def sent_callback_data(calls: Iterable[Call]) -> list[str]:
    """All callback_data values in reply_markup of every recorded request."""
    found: list[str] = []
    for call in calls:
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if "callback_data" in button:
                        found.append(str(button["callback_data"]))
    return found


def call_text(call: Call) -> str:
    """Every string in a request's parameters, flattened (for canary searches)."""
    return _flatten(call.params)


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k} {_flatten(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_flatten(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


async def timeline_actions(world: World) -> list[str]:
    async with world.hw.ctx.uow() as uow:
        return [e.event.action async for e in uow.timeline.iterate()]


async def member_status(world: World, telegram_id: int) -> str | None:
    async with world.hw.ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(telegram_id)
    return None if member is None else member.status.value


@asynccontextmanager
async def open_world(
    database_url: str,
    clock: FakeClock,
    *,
    unlimited: bool = False,
    privacy_mode: bool = True,
    concurrent_updates: int = 4,
) -> AsyncIterator[World]:
    """The e2e world, optionally with Telegram's flood limits lifted (``unlimited``) in the
    emulator and the sender, or with the bot's privacy mode off.

    Everything else (handlers, gate, storage, outbox, fake business clock) is production.
    ``delivery.rate_per_second`` is capped at 30 by settings validation, so the unlimited
    variant bypasses it with ``model_copy``: pacing is proven by the delivery tests, here only
    *what* is sent matters.
    """
    emu = Emulator(
        token=TOKEN,
        bot_username="homeward_test_bot",
        clock=clock,
        limit_config=UNLIMITED if unlimited else FAST_LIMITS,
        privacy_mode=privacy_mode,
    )
    await emu.start()
    try:
        settings = load_settings(
            None,
            telegram={
                "token": SecretStr(TOKEN),
                "base_url": emu.base_url,
                "base_file_url": emu.base_file_url,
                "poll_timeout_seconds": 5,
                "concurrent_updates": concurrent_updates,
            },
            database={"url": SecretStr(database_url)},
            geocoding={"enabled": False},  # never reach for the public Nominatim
            delivery={
                "per_chat_per_second": 100,
                "per_chat_burst": 100,
                "group_per_minute": 1000,
                "concurrency": 8 if unlimited else 4,
            },
            membership={
                "areas": [
                    AreaSettings(
                        name="Greater Sudbury", latitude=46.49, longitude=-80.99, radius_km=40
                    )
                ]
            },
        )
        if unlimited:
            settings = settings.model_copy(
                update={
                    "delivery": settings.delivery.model_copy(update={"rate_per_second": 100_000.0}),
                }
            )
        homeward = build_app(settings, clock=clock)
        await homeward.start()
        try:
            yield World(emu, homeward, clock)
        finally:
            await homeward.stop()
    finally:
        await emu.stop()


__all__ = [
    "CALLBACK_RE",
    "CANARY",
    "CANARY_ADMIN",
    "CANARY_ORG",
    "CANARY_PENDING",
    "CANARY_RESPONDER",
    "TOKEN",
    "TOKEN_RE",
    "Seed",
    "call_text",
    "member_status",
    "open_world",
    "seed_canaries",
    "sent_callback_data",
    "timeline_actions",
]
