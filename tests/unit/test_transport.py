"""AiohttpRequest against a tiny local Bot API look-alike, driven through a real telegram.Bot."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

import asyncio
import contextlib
import gc
import json
import socket
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest

from bot.transport import (
    AiohttpRequest,
    ConnectFailed,
    ConnectionLost,
    ConnectTimedOut,
    PoolTimedOut,
    ReadTimedOut,
    delivery_uncertain,
)

TOKEN = "1234567890:AAEhBP0av28dkfP5kgBBf-xk4mE9nMTu_Wg"
TOKEN_ID = TOKEN.split(":", 1)[0]
CHAT_ID = 4242
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
LONG_POLL_HOLD = 0.5  # seconds the fake getUpdates holds a request open


@dataclass
class FakeApi:
    """What the fake server saw; the test asserts on it after each call."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _message(text: str | None = None, **extra: object) -> dict[str, object]:
    msg: dict[str, object] = {
        "message_id": 7,
        "date": 1_700_000_000,
        "chat": {"id": CHAT_ID, "type": "private", "first_name": "Staff"},
        **extra,
    }
    if text is not None:
        msg["text"] = text
    return msg


def _make_app(api: FakeApi) -> web.Application:
    async def get_me(request: web.Request) -> web.Response:
        api.seen["getMe"] = {"method": request.method, "ua": request.headers.get("User-Agent")}
        return _ok(
            {
                "id": int(TOKEN_ID),
                "is_bot": True,
                "first_name": "Homeward",
                "username": "homeward_test_bot",
            }
        )

    async def send_message(request: web.Request) -> web.Response:
        form = await request.post()
        api.seen["sendMessage"] = {
            "content_type": request.content_type,
            "fields": {k: str(v) for k, v in form.items()},
        }
        return _ok(_message(str(form.get("text"))))

    async def send_photo(request: web.Request) -> web.Response:
        form = await request.post()
        photo = form.get("photo")
        api.seen["sendPhoto"] = {
            "content_type": request.content_type,
            "chat_id": form.get("chat_id"),
            "caption": form.get("caption"),
            "photo_is_file": isinstance(photo, web.FileField),
            "photo_bytes": photo.file.read() if isinstance(photo, web.FileField) else None,
        }
        size = {"file_id": "f1", "file_unique_id": "u1", "width": 1, "height": 1}
        return _ok(_message(photo=[size]))

    async def slow(request: web.Request) -> web.Response:
        # The "slow endpoint": never answers in time; the test's teardown releases it.
        api.slow_started.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(api.release.wait(), timeout=30)
        return _ok(True)

    async def get_updates(request: web.Request) -> web.Response:
        form = await request.post()
        api.seen["getUpdates"] = {k: str(v) for k, v in form.items()}
        # A long poll with nothing to deliver: hold the request open, then answer [].
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(api.release.wait(), timeout=LONG_POLL_HOLD)
        return _ok([])

    async def hang_up(request: web.Request) -> web.StreamResponse:
        # Read the request, then drop the connection without answering.
        await request.read()
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    prefix = f"/bot{TOKEN}"
    app.router.add_post(f"{prefix}/getMe", get_me)
    app.router.add_post(f"{prefix}/sendMessage", send_message)
    app.router.add_post(f"{prefix}/sendPhoto", send_photo)
    app.router.add_post(f"{prefix}/sendChatAction", slow)
    app.router.add_post(f"{prefix}/getUpdates", get_updates)
    app.router.add_post(f"{prefix}/hangUp", hang_up)
    return app


@pytest.fixture
async def api() -> AsyncIterator[FakeApi]:
    fake = FakeApi()
    runner = web.AppRunner(_make_app(fake), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.base_url = f"http://{host}:{port}/bot"
    try:
        yield fake
    finally:
        fake.release.set()  # let any held handler return at once
        await runner.cleanup()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _make_bot(base_url: str, **kwargs: Any) -> Bot:
    return Bot(
        TOKEN,
        base_url=base_url,
        request=AiohttpRequest(**kwargs),
        get_updates_request=AiohttpRequest(connection_pool_size=1, **kwargs),
    )


def _full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _assert_no_token(exc: BaseException) -> None:
    text = _full_text(exc) + repr(exc)
    assert TOKEN not in text
    assert TOKEN.split(":", 1)[1] not in text


@pytest.fixture
async def bot(api: FakeApi) -> AsyncIterator[Bot]:
    b = _make_bot(api.base_url, read_timeout=0.2)
    async with b:
        yield b


async def test_get_me(bot: Bot, api: FakeApi) -> None:
    me = await bot.get_me()
    assert me.id == int(TOKEN_ID)
    assert me.username == "homeward_test_bot"
    assert api.seen["getMe"]["method"] == "POST"
    assert api.seen["getMe"]["ua"] == BaseRequest.USER_AGENT


async def test_send_message_is_form_urlencoded_with_json_reply_markup(
    bot: Bot, api: FakeApi
) -> None:
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("I'm searching", callback_data="search:1")]]
    )
    message = await bot.send_message(CHAT_ID, "Youth missing: Ålesund & co", reply_markup=markup)

    assert message.text == "Youth missing: Ålesund & co"
    seen = api.seen["sendMessage"]
    assert seen["content_type"] == "application/x-www-form-urlencoded"
    fields = seen["fields"]
    assert fields["chat_id"] == str(CHAT_ID)
    assert fields["text"] == "Youth missing: Ålesund & co"
    assert json.loads(fields["reply_markup"]) == {
        "inline_keyboard": [[{"text": "I'm searching", "callback_data": "search:1"}]]
    }


async def test_send_photo_bytes_is_multipart(bot: Bot, api: FakeApi) -> None:
    message = await bot.send_photo(CHAT_ID, PHOTO, caption="Last seen photo")

    assert message.photo
    seen = api.seen["sendPhoto"]
    assert seen["content_type"] == "multipart/form-data"
    assert seen["chat_id"] == str(CHAT_ID)
    assert seen["caption"] == "Last seen photo"
    assert seen["photo_is_file"]
    assert seen["photo_bytes"] == PHOTO


async def test_read_timeout_raises_read_timed_out_without_token(bot: Bot, api: FakeApi) -> None:
    with pytest.raises(ReadTimedOut) as info:
        await bot.send_chat_action(CHAT_ID, "typing")

    exc = info.value
    assert isinstance(exc, TimedOut)
    assert api.slow_started.is_set()  # the request did reach the server
    assert delivery_uncertain(exc)
    assert "read" in str(exc).lower()
    _assert_no_token(exc)


async def test_connection_refused_raises_connect_failed_without_token() -> None:
    bot = _make_bot(f"http://127.0.0.1:{_closed_port()}/bot")
    # Bot.__aenter__ calls getMe, fails, and shuts the requests down again.
    with pytest.raises(ConnectFailed) as info:
        async with bot:
            pass

    exc = info.value
    assert isinstance(exc, NetworkError)
    assert not isinstance(exc, TimedOut)
    assert not delivery_uncertain(exc)
    _assert_no_token(exc)
    for request in (bot.request, bot._request[0]):
        assert isinstance(request, AiohttpRequest)
        assert not request.is_initialized


async def test_connection_dropped_after_send_is_uncertain(bot: Bot) -> None:
    with pytest.raises(ConnectionLost) as info:
        await bot.do_api_request("hangUp")
    assert delivery_uncertain(info.value)
    _assert_no_token(info.value)


async def test_long_poll_read_timeout_extends_default(bot: Bot, api: FakeApi) -> None:
    # Default read timeout is 0.2 s and the server holds getUpdates for 0.5 s: PTB passes
    # read_timeout = default + timeout, which must be honoured rather than the default.
    updates = await bot.get_updates(offset=5, timeout=1)
    assert updates == ()
    assert api.seen["getUpdates"]["offset"] == "5"
    assert api.seen["getUpdates"]["timeout"] == "1"

    with pytest.raises(ReadTimedOut):
        await bot.get_updates(timeout=0)


async def test_default_none_semantics(api: FakeApi) -> None:
    url = f"{api.base_url}{TOKEN}/getUpdates"
    async with AiohttpRequest(read_timeout=0.1) as request:
        with pytest.raises(ReadTimedOut):  # DEFAULT_NONE -> the instance default, 0.1 s
            await request.do_request(url, "POST")
        status, _ = await request.do_request(url, "POST", read_timeout=None)  # None: no limit
        assert status == 200
        status, _ = await request.do_request(url, "POST", read_timeout=5.0)
        assert status == 200
    assert request.read_timeout == 0.1


async def test_pool_timeout_raises_pool_timed_out(api: FakeApi) -> None:
    async with AiohttpRequest(connection_pool_size=1, pool_timeout=0.05) as request:
        slow_url = f"{api.base_url}{TOKEN}/sendChatAction"
        first = asyncio.create_task(request.do_request(slow_url, "POST", read_timeout=None))
        await api.slow_started.wait()
        with pytest.raises(PoolTimedOut) as info:
            await request.do_request(f"{api.base_url}{TOKEN}/getMe", "POST")
        assert isinstance(info.value, TimedOut)
        assert not delivery_uncertain(info.value)
        assert "getMe" not in api.seen  # never sent
        api.release.set()
        assert (await first)[0] == 200


async def test_connect_timeout_is_connect_timed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never_connects(*args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr("aiohappyeyeballs.start_connection", never_connects)
    async with AiohttpRequest(connect_timeout=0.05) as request:
        with pytest.raises(ConnectTimedOut) as info:
            await request.do_request(f"http://127.0.0.1:9/bot{TOKEN}/getMe", "POST")
    assert isinstance(info.value, ConnectFailed)
    assert isinstance(info.value, TimedOut)
    assert not delivery_uncertain(info.value)
    _assert_no_token(info.value)


async def test_proxy_environment_is_ignored(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    dead_proxy = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with _make_bot(api.base_url) as bot:
        assert (await bot.get_me()).id == int(TOKEN_ID)


async def test_session_created_lazily_and_shutdown_idempotent(api: FakeApi) -> None:
    request = AiohttpRequest()
    assert not request.is_initialized  # nothing created in the constructor
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{api.base_url}{TOKEN}/getMe", "POST")

    await request.initialize()
    await request.initialize()  # idempotent
    assert request.is_initialized
    session = request._session
    assert session is not None
    status, payload = await request.do_request(f"{api.base_url}{TOKEN}/getMe", "POST")
    assert status == 200
    assert json.loads(payload)["ok"] is True

    await request.shutdown()
    assert session.closed
    assert not request.is_initialized
    await request.shutdown()  # idempotent, no error

    # Re-initialising after shutdown works (PTB applications can be restarted).
    await request.initialize()
    assert request.is_initialized
    await request.shutdown()

    del session
    gc.collect()  # an unclosed session would warn here, and warnings are errors


async def test_bot_shutdown_closes_sessions(api: FakeApi) -> None:
    bot = _make_bot(api.base_url)
    requests: list[AiohttpRequest] = []
    async with bot:
        for request in (bot.request, bot._request[0]):
            assert isinstance(request, AiohttpRequest)
            assert request.is_initialized
            requests.append(request)
    assert not any(request.is_initialized for request in requests)
    await bot.shutdown()  # a second shutdown is harmless
