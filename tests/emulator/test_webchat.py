"""The web chat's JSON API: what the page is given, what it may do, and who may ask."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from telegram import Bot

from bot.emulator import Emulator
from bot.emulator.personas import Area, Persona
from tests.fakes.images import png

from .conftest import call


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def post(http: aiohttp.ClientSession, url: str, body: Any, **headers: str) -> tuple[int, Any]:
    async with http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_personas_come_from_the_registry_or_else_the_users(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.add_user("Ana", "Staff", username="ana")
    ben = emu.add_user("Ben")
    listed = await get_json(http, f"{emu.url}/chat/api/personas")
    assert listed["bot"]["username"] == "homeward_bot"
    assert listed["personas"] == [
        {"user_id": ana.id, "label": "Ana Staff (@ana)", "role": "", "area": None},
        {"user_id": ben.id, "label": "Ben", "role": "", "area": None},
    ]
    assert listed["places"] == []

    emu.personas.add(Persona(ben.id, "Ben, police (Sudbury)", "police", Area(46.49, -80.99, 20)))
    emu.personas.add(Persona(ana.id, "Ana, residence staff", "residence_staff", order=-1))
    emu.personas.add(Persona(999, "Not in the emulator", "police"))
    emu.personas.add_place("Bus terminal", 46.4900, -80.9800)
    listed = await get_json(http, f"{emu.url}/chat/api/personas")
    assert [(p["user_id"], p["label"], p["role"]) for p in listed["personas"]] == [
        (ana.id, "Ana, residence staff", "residence_staff"),
        (ben.id, "Ben, police (Sudbury)", "police"),
    ]
    assert listed["personas"][1]["area"] == {
        "latitude": 46.49,
        "longitude": -80.99,
        "radius_km": 20,
    }
    assert listed["places"] == [{"name": "Bus terminal", "latitude": 46.49, "longitude": -80.98}]


async def test_a_chat_is_text_and_entities_never_html_and_follows_edits_and_deletions(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.add_user("Ana")
    url = f"{emu.url}/chat/api/chats/{ana.id}"
    emu.send_text(ana.id, "/start")
    keyboard = {
        "inline_keyboard": [
            [{"text": "Seen", "callback_data": "t:seen"}],
            [{"text": "Guide", "url": "https://example.org/guide"}],
        ]
    }
    status, sent = await call(
        http,
        emu,
        "sendMessage",
        chat_id=ana.id,
        text="<b>Jordan &lt;img src=x onerror=alert(1)&gt;</b> is missing",
        parse_mode="HTML",
        protect_content=True,
        reply_markup=keyboard,
    )
    assert status == 200
    message_id = sent["result"]["message_id"]  # type: ignore[index]
    chat = await get_json(http, url)
    user_message, bot_message = chat["messages"]
    assert user_message["from_bot"] is False
    assert user_message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert bot_message["from_bot"] is True
    assert bot_message["text"] == "Jordan <img src=x onerror=alert(1)> is missing"
    assert bot_message["entities"] == [{"type": "bold", "offset": 0, "length": 35}]
    assert "raw_text" not in bot_message
    assert bot_message["protected"] is True
    assert bot_message["edited"] is False
    assert bot_message["keyboard"] == [
        [{"text": "Seen", "data": "t:seen"}],
        [{"text": "Guide", "url": "https://example.org/guide"}],
    ]
    version = chat["version"]
    assert (await get_json(http, url))["version"] == version  # nothing changed

    await call(
        http, emu, "editMessageText", chat_id=ana.id, message_id=message_id, text="Found safe"
    )
    edited = await get_json(http, url)
    assert edited["version"] != version
    assert edited["messages"][1]["text"] == "Found safe"
    assert edited["messages"][1]["edited"] is True
    assert edited["messages"][1]["keyboard"] == []

    await call(http, emu, "deleteMessage", chat_id=ana.id, message_id=message_id)
    deleted = (await get_json(http, url))["messages"][1]
    assert deleted == {
        "id": message_id,
        "from_bot": True,
        "date": deleted["date"],
        "deleted": True,
    }


async def test_long_poll_waits_for_a_change_and_carries_the_command_menu(
    emu: Emulator, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = emu.add_user("Ana")
    url = f"{emu.url}/chat/api/chats/{ana.id}"
    first = await get_json(http, url)
    assert first == {"messages": [], "commands": [], "version": first["version"]}

    waiting = asyncio.Event()
    original = emu.state.wait_change

    async def noted(timeout: float) -> bool:  # noqa: ASYNC109 - the emulator's own signature
        waiting.set()
        return await original(timeout)

    monkeypatch.setattr(emu.state, "wait_change", noted)
    poll = asyncio.create_task(get_json(http, f"{url}?since={first['version']}"))
    await asyncio.wait_for(waiting.wait(), 5)
    assert not poll.done()
    await call(
        http,
        emu,
        "setMyCommands",
        commands=[{"command": "missing", "description": "Raise the alarm"}],
        scope={"type": "chat", "chat_id": ana.id},
    )
    changed = await asyncio.wait_for(poll, 5)
    assert changed["version"] != first["version"]
    assert changed["commands"] == [{"command": "missing", "description": "Raise the alarm"}]


async def test_pins_show_venues_and_locations(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ana = emu.add_user("Ana")
    await call(
        http,
        emu,
        "sendVenue",
        chat_id=ana.id,
        latitude=46.4917,
        longitude=-80.993,
        title="Last seen",
        address="100 Elm Street, Sudbury",
    )
    await call(http, emu, "sendLocation", chat_id=ana.id, latitude=46.5, longitude=-81.0)
    venue, location = (await get_json(http, f"{emu.url}/chat/api/chats/{ana.id}"))["messages"]
    assert venue["pin"] == {
        "latitude": 46.4917,
        "longitude": -80.993,
        "title": "Last seen",
        "address": "100 Elm Street, Sudbury",
    }
    assert location["pin"] == {"latitude": 46.5, "longitude": -81.0}
    assert venue["text"] is None


async def test_acting_as_a_persona(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ana = emu.add_user("Ana")
    emu.personas.add_place("Bus terminal", 46.49, -80.98)
    base = f"{emu.url}/chat/api/chats/{ana.id}"
    assert await post(http, f"{base}/text", {"text": "/missing"}) == (200, {"message_id": 1})
    assert (await post(http, f"{base}/text", {"text": "   "}))[0] == 400
    assert (await post(http, f"{base}/text", {"text": "x" * 4097}))[0] == 400
    assert (await post(http, f"{emu.url}/chat/api/chats/4242/text", {"text": "hi"}))[0] == 404
    assert (await post(http, f"{base}/location", {"place": "Bus terminal"}))[0] == 200
    assert (await post(http, f"{base}/location", {"latitude": 46.5, "longitude": -81}))[0] == 200
    assert (await post(http, f"{base}/location", {"place": "Atlantis"}))[0] == 404
    assert (await post(http, f"{base}/location", {"latitude": 91, "longitude": 0}))[0] == 400
    assert (await post(http, f"{base}/location", {"latitude": "x", "longitude": 0}))[0] == 400
    messages = emu.messages(ana.id)
    assert [m.text for m in messages] == ["/missing", None, None]
    assert [m.location for m in messages[1:]] == [(46.49, -80.98), (46.5, -81.0)]
    # Each action reached the bot as a real update.
    assert emu.pending_update_count() == 3


async def test_photos_upload_and_come_back_as_images_or_a_placeholder(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.add_user("Ana")
    base = f"{emu.url}/chat/api/chats/{ana.id}"
    image = png()
    for data in (image, b"not an image"):
        form = aiohttp.FormData()
        form.add_field("photo", data, filename="photo.png", content_type="image/png")
        async with http.post(f"{base}/photo", data=form) as response:
            assert response.status == 200
    empty = aiohttp.FormData()
    empty.add_field("photo", b"", filename="empty.png")
    async with http.post(f"{base}/photo", data=empty) as response:
        assert response.status == 400
    real, fake = (await get_json(http, base))["messages"]
    async with http.get(f"{emu.url}{real['photo']}") as response:
        assert response.headers["Content-Type"] == "image/png"
        assert await response.read() == image
    async with http.get(f"{emu.url}{fake['photo']}") as response:
        assert response.headers["Content-Type"] == "image/svg+xml"
    async with http.get(f"{emu.url}/chat/api/files/NoSuchFile") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/svg+xml"
    assert emu.messages(ana.id)[0].photo_file_id is not None


async def test_a_press_needs_a_shown_button_and_returns_the_bots_answer(
    emu: Emulator, http: aiohttp.ClientSession, bot: Bot
) -> None:
    ana = emu.add_user("Ana")
    base = f"{emu.url}/chat/api/chats/{ana.id}"
    _, sent = await call(
        http,
        emu,
        "sendMessage",
        chat_id=ana.id,
        text="Approve?",
        reply_markup={"inline_keyboard": [[{"text": "Approve", "callback_data": "t:ok"}]]},
    )
    message_id = sent["result"]["message_id"]  # type: ignore[index]
    forged = await post(http, f"{base}/press", {"message_id": message_id, "data": "t:admin"})
    assert forged[0] == 409
    assert emu.pending_update_count() == 0

    press = asyncio.create_task(
        post(http, f"{base}/press", {"message_id": message_id, "data": "t:ok"})
    )
    await emu.wait_for(lambda: emu.pending_update_count() == 1)
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "t:ok"
    await update.callback_query.answer("Approved: going out now")
    status, body = await asyncio.wait_for(press, 5)
    assert status == 200
    assert body["answer"]["text"] == "Approved: going out now"


async def test_only_loopback_pages_of_this_origin_may_drive_it(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.add_user("Ana")
    host = f"127.0.0.1:{emu.port}"
    text_url = f"{emu.url}/chat/api/chats/{ana.id}/text"
    evil = {"Origin": "http://evil.example"}
    assert await post(http, text_url, {"text": "hi"}, **evil) == (
        403,
        {"error": "requests from other sites are refused"},
    )
    assert (await post(http, text_url, {"text": "hi"}, **{"Sec-Fetch-Site": "cross-site"}))[
        0
    ] == 403
    assert (await post(http, text_url, {"text": "hi"}, Origin="null"))[0] == 403
    control = f"{emu.url}/_emulator/send_text"
    assert (await post(http, control, {"user_id": ana.id, "text": "hi"}, **evil))[0] == 403
    async with http.post(
        text_url, data='{"text": "hi"}', headers={**evil, "Content-Type": "text/plain"}
    ) as response:
        assert response.status == 403
    assert emu.messages(ana.id) == []
    # A DNS-rebinding page reaches the port under its own name: nothing is answered.
    async with http.get(f"{emu.url}/chat", headers={"Host": f"evil.example:{emu.port}"}) as r:
        assert r.status == 403
    async with http.get(
        f"{emu.url}/chat/api/chats/{ana.id}", headers={"Host": f"evil.example:{emu.port}"}
    ) as r:
        assert r.status == 403
    # The page itself, from this origin, is served.
    same = {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"}
    assert (await post(http, text_url, {"text": "hi"}, **same))[0] == 200
    assert [m.text for m in emu.messages(ana.id)] == ["hi"]
    async with http.get(f"{emu.url}/chat", headers={"Host": f"localhost:{emu.port}"}) as r:
        assert r.status == 200
        page = await r.text()
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script src="/chat/static/chat.js" defer></script>' in page
    assert "http" not in page  # nothing from the internet
    async with http.get(f"{emu.url}/chat/static/chat.js") as r:
        assert r.status == 200
        script = await r.text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    for name in ("webchat.py", "..%2Fwebchat.py", "chat.html"):
        async with http.get(f"{emu.url}/chat/static/{name}") as r:
            assert r.status == 404, name
