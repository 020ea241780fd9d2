"""Webhook mode through the emulator: the secret header is the only origin check (T01),
each update is stored before Telegram is told 200 and handled once (T02, T25)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.clock import FakeClock
from bot.emulator import Emulator
from bot.settings import ConfigError, load_settings
from tests.e2e.conftest import TOKEN, World

SECRET = "s3cret_" + "x" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def hooked(emulator: Emulator, database_url: str, clock: FakeClock) -> AsyncIterator[World]:
    port = _free_port()
    settings = load_settings(
        None,
        telegram={
            "token": SecretStr(TOKEN),
            "base_url": emulator.base_url,
            "base_file_url": emulator.base_file_url,
            "mode": "webhook",
            "webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
            "webhook_secret": SecretStr(SECRET),
            "webhook_port": port,
        },
        database={"url": SecretStr(database_url)},
        geocoding={"enabled": False},
        delivery={"per_chat_per_second": 100, "per_chat_burst": 100},
    )
    settings.check_for_run()
    homeward = build_app(settings, clock=clock)
    await homeward.start()
    world = World(emulator, homeward, clock)
    try:
        yield world
    finally:
        await world.hw.stop()


async def test_updates_arrive_by_webhook_with_the_minimal_subscription(hooked: World) -> None:
    hook = hooked.emu.webhook
    assert hook is not None
    assert hook["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    admin = await hooked.admin()
    [reply] = await hooked.say(admin, "/whoami")
    assert "Alex Admin" in (reply.text or "")
    stranger = hooked.person("Some Stranger")
    [generic] = await hooked.say(stranger, "/whoami")
    assert (generic.text or "").startswith("Homeward is")


async def test_forged_requests_are_refused_and_change_nothing(hooked: World) -> None:
    server = hooked.hw.webhook
    assert server is not None
    url = f"http://127.0.0.1:{server.port}{server.path}"
    body = {
        "update_id": 999_000_001,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "X"},
            "text": "/whoami",
        },
    }
    headers_cases: list[dict[str, str]] = [
        {},
        {"X-Telegram-Bot-Api-Secret-Token": ""},
        {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        {"X-Telegram-Bot-Api-Secret-Token": "a" * 257},
        {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
        {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
    ]
    loop = asyncio.get_running_loop()
    slowest = 0.0
    async with aiohttp.ClientSession() as http:
        for i in range(600):
            headers = headers_cases[i % len(headers_cases)]
            started = loop.time()
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 401
            slowest = max(slowest, loop.time() - started)
        # Malformed but authentic requests are refused without effect too.
        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(url, data=b"not json", headers=good) as response:
            assert response.status == 400
        async with http.post(url, json={"update_id": "1"}, headers=good) as response:
            assert response.status == 400
    assert slowest < 0.5
    assert server.handled == 0
    assert await hooked.hw.processor.wait_processed(0) is None
    assert hooked.hw.processor.processed == 0
    assert hooked.emu.calls_to("sendMessage") == []


async def test_a_redelivered_update_has_one_effect(hooked: World) -> None:
    admin = await hooked.admin()
    update = hooked.emu.send_text(admin.user_id, "/whoami")
    await hooked.settle()
    server = hooked.hw.webhook
    assert server is not None
    url = f"http://127.0.0.1:{server.port}{server.path}"
    good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(url, json=update, headers=good) as response:
                assert response.status == 200
    await hooked.settle()
    replies = [m for m in hooked.emu.bot_messages(admin.user_id) if "Alex Admin" in (m.text or "")]
    assert len(replies) == 1
    assert server.handled == 1


def test_webhook_mode_refuses_a_missing_or_weak_secret() -> None:
    for secret in (None, "short", "has spaces in it and is long enough to pass the size"):
        telegram = {
            "token": SecretStr(TOKEN),
            "mode": "webhook",
            "webhook_url": "https://homeward.example.org/hook",
        }
        if secret is not None:
            telegram["webhook_secret"] = SecretStr(secret)
        settings = load_settings(None, telegram=telegram)
        with pytest.raises(ConfigError, match="webhook_secret"):
            settings.check_for_run()
    insecure = load_settings(
        None,
        telegram={
            "token": SecretStr(TOKEN),
            "mode": "webhook",
            "webhook_secret": SecretStr(SECRET),
            "webhook_url": "http://homeward.example.org/hook",
        },
    )
    with pytest.raises(ConfigError, match="https"):
        insecure.check_for_run()
