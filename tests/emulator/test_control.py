"""The /_emulator/ control API, loopback binding, and wait_for diagnostics."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiohttp
import pytest

from bot.clock import FakeClock, SystemClock
from bot.emulator import Emulator, Fault

from .conftest import call


async def test_control_round_trip(
    emu: Emulator, http: aiohttp.ClientSession, fake_clock: FakeClock
) -> None:
    base = f"{emu.url}/_emulator"
    async with http.post(f"{base}/users", json={"first_name": "Ana", "username": "ana"}) as r:
        assert r.status == 201
        user_id = (await r.json())["id"]
    async with http.post(f"{base}/send_text", json={"user_id": user_id, "text": "/start"}) as r:
        assert (await r.json())["message"]["text"] == "/start"
    async with http.post(
        f"{base}/location", json={"user_id": user_id, "latitude": 1.5, "longitude": 2.5}
    ) as r:
        assert r.status == 200
    _status, body = await call(http, emu, "sendMessage", chat_id=user_id, text="hi")
    bot_message_id = body["result"]["message_id"]  # type: ignore[index]
    async with http.post(
        f"{base}/press", json={"user_id": user_id, "message_id": bot_message_id, "data": "d"}
    ) as r:
        assert (await r.json())["callback_query"]["data"] == "d"
    async with http.get(f"{base}/chats/{user_id}/messages") as r:
        messages = await r.json()
    assert [(m["from_bot"], m["text"]) for m in messages] == [
        (False, "/start"),
        (False, None),
        (True, "hi"),
    ]
    assert messages[1]["location"] == [1.5, 2.5]
    async with http.post(f"{base}/faults", json={"kind": "503", "method": "getMe"}) as r:
        assert r.status == 201
    assert (await call(http, emu, "getMe"))[0] == 503
    async with http.post(f"{base}/faults", json={"kind": "500", "times": None}) as r:
        assert r.status == 201
    async with http.delete(f"{base}/faults") as r:
        assert r.status == 200
    assert emu.faults == []
    async with http.post(f"{base}/clock/advance", json={"seconds": 3600}) as r:
        assert r.status == 200
    assert fake_clock.now() - messages_date(emu, user_id) == timedelta(hours=1)
    async with http.get(f"{base}/calls") as r:
        calls = await r.json()
    assert [c["method"] for c in calls] == ["sendMessage", "getMe"]
    async with http.get(f"{base}/chats/999/messages") as r:
        assert r.status == 404
    async with http.post(f"{base}/faults", json={"kind": "nope"}) as r:
        assert r.status == 400


def messages_date(emu: Emulator, chat_id: int) -> datetime:
    return emu.messages(chat_id)[0].date


async def test_clock_advance_needs_fake_clock(http: aiohttp.ClientSession) -> None:
    async with (
        Emulator(clock=SystemClock()) as real,
        http.post(f"{real.url}/_emulator/clock/advance", json={"seconds": 1}) as r,
    ):
        assert r.status == 409


async def test_refuses_non_loopback() -> None:
    emulator = Emulator()
    with pytest.raises(ValueError, match="loopback"):
        await emulator.start(host="0.0.0.0")  # noqa: S104
    assert emulator.base_url.endswith("/bot")


async def test_wait_for_timeout_message(emu: Emulator) -> None:
    def never() -> bool:
        return False

    with pytest.raises(TimeoutError, match=r"'never' still false after 0\.05s"):
        await emu.wait_for(never, timeout=0.05)


async def test_wait_for_message_next(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ana = emu.add_user(first_name="Ana").id
    await call(http, emu, "sendMessage", chat_id=ana, text="one")
    first = await emu.wait_for_message(ana)
    await call(http, emu, "sendMessage", chat_id=ana, text="two")
    second = await emu.wait_for_message(ana, after_message_id=first.message_id)
    assert (first.text, second.text) == ("one", "two")
    assert (await emu.wait_for_message(ana)).text == "one"


async def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="times"):
        Fault("500", times=0)


async def test_stop_releases_held_requests(http: aiohttp.ClientSession) -> None:
    emulator = Emulator()
    await emulator.start()
    ana = emulator.add_user(first_name="Ana").id
    emulator.inject_fault(Fault("timeout", method="sendMessage"))
    poll = asyncio.create_task(call(http, emulator, "getUpdates", timeout=30))
    held = asyncio.create_task(call(http, emulator, "sendMessage", chat_id=ana, text="x"))
    await emulator.wait_for(
        lambda: emulator.polls_waiting == 1 and len(emulator.calls_to("sendMessage")) == 1
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    await emulator.stop()
    assert loop.time() - started < 2
    status, body = await poll
    assert (status, body["result"]) == (200, [])
    with pytest.raises(aiohttp.ClientError):
        await held
    await emulator.stop()  # idempotent
