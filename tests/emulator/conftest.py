"""Fixtures for the emulator tests: a started emulator and a PTB Bot pointed at it."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
_no_proxy = os.environ.get("NO_PROXY", "")
if "127.0.0.1" not in _no_proxy:
    os.environ["NO_PROXY"] = ",".join(p for p in (_no_proxy, "127.0.0.1", "localhost") if p)

from collections.abc import AsyncIterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from telegram import Bot  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from bot.emulator import Emulator  # noqa: E402

TOKEN = "123456789:AAE_test_token_for_emulator_only_xx"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 15, 17, 0, tzinfo=UTC))


@pytest.fixture
def limits_clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 15, 17, 0, tzinfo=UTC))


@pytest.fixture
async def emu(fake_clock: FakeClock, limits_clock: FakeClock) -> AsyncIterator[Emulator]:
    """Dates and flood limits both on fake clocks, so pacing is fully deterministic."""
    async with Emulator(
        token=TOKEN, bot_username="homeward_bot", clock=fake_clock, limits_clock=limits_clock
    ) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, emu: Emulator, method: str, **params: object
) -> tuple[int, dict[str, object]]:
    """POST a Bot API method as a JSON body; returns (HTTP status, decoded body)."""
    async with http.post(f"{emu.base_url}{emu.token}/{method}", json=params) as response:
        return response.status, await response.json()
