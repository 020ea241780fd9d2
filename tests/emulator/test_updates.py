"""getUpdates (offset, long poll, filters), webhooks (409, push with secret), injection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from telegram import Update

from bot.clock import FakeClock
from bot.emulator import Emulator

from .conftest import call


class Receiver:
    """A tiny webhook endpoint that fails the first ``fail_first`` deliveries."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[str | None, dict[str, object]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((secret, await request.json()))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver(fail_first=2)
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


async def test_update_shapes_parse_in_ptb(emu: Emulator) -> None:
    ana = emu.add_user(first_name="Ana", username="ana")
    bob = emu.add_user(first_name="Bob")
    group = emu.add_group(title="Ops room")
    raw = [
        emu.send_text(ana.id, "/start abc"),
        emu.send_text(ana.id, "/help@homeward_bot", chat_id=group.id),
        emu.send_location(ana.id, 51.5, -0.12),
        emu.send_photo(ana.id, b"jpeg", caption="seen here"),
        emu.forward_text(ana.id, "forwarded", from_user_id=bob.id),
        emu.press_button(ana.id, 99, "x" * 200),  # forged data on a missing message
        emu.add_bot_to_group(ana.id, group.id),
    ]
    updates = [Update.de_json(u, None) for u in raw]
    assert [u.update_id for u in updates] == list(
        range(raw[0]["update_id"], raw[0]["update_id"] + 7)
    )
    start = updates[0].message
    assert start is not None
    assert start.text == "/start abc"
    assert start.entities[0].type == "bot_command"
    assert start.entities[0].length == 6
    assert updates[1].message is not None
    assert updates[1].message.entities[0].length == len("/help@homeward_bot")
    assert updates[1].message.chat.type == "group"
    assert updates[2].message is not None
    assert updates[2].message.location is not None
    assert updates[3].message is not None
    assert updates[3].message.photo
    assert updates[4].message is not None
    assert updates[4].message.forward_origin is not None
    assert updates[5].callback_query is not None
    assert updates[5].callback_query.data == "x" * 200
    assert updates[6].my_chat_member is not None
    assert updates[6].my_chat_member.new_chat_member.status == "member"
    assert emu.pending_update_count() == 7


async def test_offset_confirms_and_limit(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ana = emu.add_user(first_name="Ana").id
    first = emu.send_text(ana, "one")["update_id"]
    emu.send_text(ana, "two")
    emu.send_text(ana, "three")
    _, body = await call(http, emu, "getUpdates", limit=2)
    assert [u["update_id"] for u in body["result"]] == [first, first + 1]
    _, body = await call(http, emu, "getUpdates")  # unconfirmed: delivered again
    assert len(body["result"]) == 3
    _, body = await call(http, emu, "getUpdates", offset=first + 2)
    assert [u["message"]["text"] for u in body["result"]] == ["three"]
    _, body = await call(http, emu, "getUpdates", offset=first + 3)
    assert body["result"] == []
    assert emu.pending_update_count() == 0


async def test_long_poll_returns_when_update_arrives(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.add_user(first_name="Ana").id
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(call(http, emu, "getUpdates", timeout=30))
    await emu.wait_for(lambda: emu.polls_waiting == 1)  # the server is holding the poll
    emu.send_text(ana, "hello")
    _, body = await asyncio.wait_for(poll, 5)
    assert [u["message"]["text"] for u in body["result"]] == ["hello"]
    assert loop.time() - started < 5


async def test_long_poll_times_out_empty(emu: Emulator, http: aiohttp.ClientSession) -> None:
    _, body = await call(http, emu, "getUpdates", timeout=1)
    assert body == {"ok": True, "result": []}


async def test_allowed_updates_filter(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ana = emu.add_user(first_name="Ana").id
    await call(http, emu, "getUpdates", allowed_updates=["callback_query"])
    emu.send_text(ana, "filtered out")
    emu.press_button(ana, 1, "d")
    _, body = await call(http, emu, "getUpdates")
    assert [next(k for k in u if k != "update_id") for u in body["result"]] == ["callback_query"]


async def test_getupdates_409_while_webhook_set(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, emu, "setWebhook", url="https://example.invalid/hook")
    assert (status, body["result"]) == (200, True)
    status, body = await call(http, emu, "getUpdates")
    assert status == 409
    assert body["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )
    await call(http, emu, "deleteWebhook")
    status, _ = await call(http, emu, "getUpdates")
    assert status == 200


async def test_secret_token_validation(emu: Emulator, http: aiohttp.ClientSession) -> None:
    for bad in ["has space", "x" * 257, "ünïcode"]:
        status, _body = await call(
            http, emu, "setWebhook", url="https://e.invalid/", secret_token=bad
        )
        assert status == 400, bad
    assert emu.webhook is None
    status, _ = await call(
        http, emu, "setWebhook", url="https://e.invalid/", secret_token="A-z_0" * 51
    )
    assert status == 200


async def test_webhook_push_with_secret_and_retry(
    emu: Emulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    ana = emu.add_user(first_name="Ana").id
    emu.send_text(ana, "before the hook")
    status, _ = await call(
        http,
        emu,
        "setWebhook",
        url=receiver.url,
        secret_token="s3cr3t",
        allowed_updates=["message"],
    )
    assert status == 200
    emu.press_button(ana, 1, "dropped: not in allowed_updates")
    emu.send_text(ana, "after the hook")
    await emu.wait_for(lambda: len(receiver.received) == 2)
    assert [secret for secret, _ in receiver.received] == ["s3cr3t", "s3cr3t"]
    texts = [update["message"]["text"] for _, update in receiver.received]  # type: ignore[index]
    assert texts == ["before the hook", "after the hook"]
    assert [d.status for d in emu.webhook_deliveries] == [500, 500, 200, 200]
    assert emu.pending_update_count() == 0
    _, info = await call(http, emu, "getWebhookInfo")
    assert info["result"]["url"] == receiver.url
    assert "Wrong response from the webhook: 500" in info["result"]["last_error_message"]


async def test_privacy_mode_in_groups(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ana = emu.add_user(first_name="Ana").id
    group = emu.add_group(title="Ops room").id
    skipped = emu.send_text(ana, "just chatting", chat_id=group)
    assert "update_id" not in skipped  # stored in the chat, never delivered
    emu.send_text(ana, "/status", chat_id=group)
    emu.send_text(ana, "hey @Homeward_Bot", chat_id=group)
    emu.send_text(ana, "private chats always arrive")
    _, body = await call(http, emu, "getUpdates")
    texts = [u["message"]["text"] for u in body["result"]]
    assert texts == ["/status", "hey @Homeward_Bot", "private chats always arrive"]
    assert len(emu.messages(group)) == 3
    async with Emulator(privacy_mode=False) as open_bot:
        user = open_bot.add_user(first_name="Bo").id
        room = open_bot.add_group(title="Room").id
        assert "update_id" in open_bot.send_text(user, "anything", chat_id=room)


async def test_second_poller_ends_first_with_409(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(call(http, emu, "getUpdates", timeout=30))
    await emu.wait_for(lambda: emu.polls_waiting == 1)
    status, _ = await call(http, emu, "getUpdates", timeout=0)
    assert status == 200
    status, body = await asyncio.wait_for(first, 5)
    assert status == 409
    assert str(body["description"]).startswith("Conflict: terminated by other getUpdates")


async def test_updates_expire_after_24h(
    emu: Emulator, http: aiohttp.ClientSession, fake_clock: FakeClock
) -> None:
    ana = emu.add_user(first_name="Ana").id
    emu.send_text(ana, "old")
    fake_clock.advance(timedelta(hours=23))
    emu.send_text(ana, "new")
    fake_clock.advance(timedelta(hours=1, seconds=1))
    _, body = await call(http, emu, "getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["new"]


async def test_leave_chat_emits_my_chat_member(emu: Emulator, http: aiohttp.ClientSession) -> None:
    group = emu.add_group(title="Ops room", supergroup=True).id
    assert group < -1_000_000_000_000
    status, _ = await call(http, emu, "leaveChat", chat_id=group)
    assert status == 200
    _, body = await call(http, emu, "getUpdates")
    change = body["result"][0]["my_chat_member"]
    assert change["new_chat_member"]["status"] == "left"
    status, body = await call(http, emu, "sendMessage", chat_id=group, text="x")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )
