"""Fixtures for the sandbox tests: a whole sandbox (emulator, bot, seeded world) on the
backend under test and the fake clock, on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.sandbox import Sandbox, start_sandbox
from bot.settings import Settings, load_settings

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def settings() -> Settings:
    return load_settings(None)


@pytest.fixture
async def sandbox(
    settings: Settings, database_url: str, clock: FakeClock
) -> AsyncIterator[Sandbox]:
    box = await start_sandbox(
        settings, clock=clock, port=0, unpaced=True, database_url=database_url
    )
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def empty_sandbox(
    settings: Settings, database_url: str, clock: FakeClock
) -> AsyncIterator[Sandbox]:
    box = await start_sandbox(
        settings, empty=True, clock=clock, port=0, unpaced=True, database_url=database_url
    )
    try:
        yield box
    finally:
        await box.stop()
