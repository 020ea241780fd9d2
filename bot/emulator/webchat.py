"""The sandbox web chat: each persona's private chat with the bot, in a browser.

Served by the emulator's own aiohttp app on loopback. ``GET /chat`` is the page
(plain HTML, CSS and JavaScript from ``static/``, nothing from the internet); the
page talks to a small JSON API under ``/chat/api/``:

* ``GET personas``: ``{"bot", "personas": [{user_id, label, role, area}], "places"}``,
  from :attr:`Emulator.personas` (the emulator's users when the sandbox seeded none).
* ``GET chats/{user_id}?since=VERSION``: ``{"version", "messages", "commands"}``. With
  ``since`` equal to the current version it waits (up to 25 s) for a change: long polling.
* ``POST chats/{user_id}/text`` ``{"text"}``, ``.../press`` ``{"message_id", "data"}``
  (answers the bot's callback answer, if it comes within 10 s), ``.../location``
  ``{"place"}`` or ``{"latitude", "longitude"}``, ``.../photo`` (multipart ``photo``).
* ``GET files/{file_id}``: a photo's bytes (a placeholder when they are not an image).

Messages are sent as visible text plus Telegram entities, never as HTML: the page
builds DOM nodes from them. :func:`local_only` keeps this and ``/_emulator/`` to
loopback names (against DNS rebinding) and refuses requests that change state from a
page of another origin.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from bot.emulator.control import _body, _guard
from bot.emulator.html import utf16_len
from bot.emulator.models import JSON, EmuMessage

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {
    "chat.css": "text/css",
    "chat.js": "text/javascript",
    "placeholder.svg": "image/svg+xml",
    "icon.svg": "image/svg+xml",
    "pin.svg": "image/svg+xml",
    "camera.svg": "image/svg+xml",
    "lock.svg": "image/svg+xml",
}
POLL_SECONDS = 25.0
ANSWER_SECONDS = 10.0
TEXT_LIMIT = 4096
PHOTO_LIMIT = 10 * 1024 * 1024
LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GUARDED_PREFIXES = ("/chat", "/_emulator/")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _host_name(host: str) -> str:
    """The name part of a Host header (``127.0.0.1:8081`` -> ``127.0.0.1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def refusal(request: web.Request) -> str | None:
    """Why a web chat or control request is refused, or None.

    Only loopback host names are answered (a DNS-rebinding page would arrive with its
    own name), and a request that changes something must not come from another
    origin's page: browsers send ``Origin`` (and ``Sec-Fetch-Site``) with those.
    Scripts and tests send neither and are served.
    """
    if _host_name(request.host) not in LOCAL_NAMES:
        return "this web chat answers on loopback addresses only"
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return "requests from other sites are refused"
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        return "requests from other sites are refused"
    return None


@web.middleware
async def local_only(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith(GUARDED_PREFIXES):
        response: web.StreamResponse = await handler(request)
        return response
    problem = refusal(request)
    if problem is not None:
        return web.json_response({"error": problem}, status=403)
    response = await handler(request)
    if request.path.startswith("/chat"):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def image_type(data: bytes) -> str | None:
    for magic, kind in IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _pin(message: EmuMessage) -> JSON | None:
    if message.location is None:
        return None
    latitude, longitude = message.location
    pin: JSON = {"latitude": latitude, "longitude": longitude}
    if message.venue is not None:
        pin["title"] = str(message.venue.get("title", ""))
        pin["address"] = str(message.venue.get("address", ""))
    return pin


def _keyboard(markup: JSON | None) -> list[list[JSON]]:
    rows: list[list[JSON]] = []
    for row in (markup or {}).get("inline_keyboard", []):
        buttons: list[JSON] = []
        for button in row:
            shown: JSON = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                shown["data"] = str(button["callback_data"])
            elif "url" in button:
                shown["url"] = str(button["url"])
            buttons.append(shown)
        rows.append(buttons)
    return rows


def message_view(message: EmuMessage) -> JSON:
    """One message as the page draws it. A deleted one keeps only its place."""
    view: JSON = {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "date": message.date.isoformat(),
    }
    if message.deleted:
        view["deleted"] = True
        return view
    photo = message.photo_file_id
    view.update(
        text=message.text if message.text is not None else message.caption,
        entities=message.entities,
        photo=f"/chat/api/files/{quote(photo, safe='')}" if photo else None,
        pin=_pin(message),
        keyboard=_keyboard(message.reply_markup),
        protected=message.protect_content,
        edited=message.edited,
        forwarded=message.forward_from_user_id is not None,
    )
    return view


def _version(payload: JSON) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(encoded, digest_size=10).hexdigest()


def _finite(value: Any, name: str, limit: float) -> float:
    number = float(value)
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise ValueError(f"{name} must be between -{limit:g} and {limit:g}")
    return number


class WebChat:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self, app: web.Application) -> None:
        add = app.router
        add.add_get("/chat", self.page)
        add.add_get("/chat/", self.page)
        add.add_get("/chat/static/{name}", self.static)
        add.add_get("/chat/api/personas", _guard(self.personas))
        add.add_get("/chat/api/chats/{user_id}", _guard(self.chat))
        add.add_post("/chat/api/chats/{user_id}/text", _guard(self.text))
        add.add_post("/chat/api/chats/{user_id}/press", _guard(self.press))
        add.add_post("/chat/api/chats/{user_id}/location", _guard(self.location))
        add.add_post("/chat/api/chats/{user_id}/photo", _guard(self.photo))
        add.add_get("/chat/api/files/{file_id}", self.file)

    # --- page ----------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "chat.html", headers={"Content-Type": "text/html"})

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_TYPES:
            raise web.HTTPNotFound()
        return web.FileResponse(
            STATIC / name,
            headers={"Content-Type": STATIC_TYPES[name], "Cache-Control": "no-cache"},
        )

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.emu.state.files.get(request.match_info["file_id"])
        kind = image_type(stored.data) if stored is not None else None
        if stored is None or kind is None:
            return web.FileResponse(
                STATIC / "placeholder.svg", headers={"Content-Type": "image/svg+xml"}
            )
        return web.Response(
            body=stored.data,
            content_type=kind,
            headers={"Cache-Control": "private, max-age=3600"},
        )

    # --- reading -------------------------------------------------------------------
    async def personas(self, request: web.Request) -> web.StreamResponse:
        cast = self.emu.personas
        users = self.emu.state.users
        people: list[JSON] = []
        for persona in cast.ordered():
            if persona.user_id not in users:
                continue
            area = persona.area
            people.append(
                {
                    "user_id": persona.user_id,
                    "label": persona.label,
                    "role": persona.role,
                    "area": None
                    if area is None
                    else {
                        "latitude": area.latitude,
                        "longitude": area.longitude,
                        "radius_km": area.radius_km,
                    },
                }
            )
        if not people:
            for user in sorted(users.values(), key=lambda u: u.id):
                name = " ".join(filter(None, [user.first_name, user.last_name]))
                label = f"{name} (@{user.username})" if user.username else name
                people.append({"user_id": user.id, "label": label, "role": "", "area": None})
        return web.json_response(
            {
                "bot": {"username": self.emu.bot_username, "name": "Homeward"},
                "personas": people,
                "places": [
                    {"name": p.name, "latitude": p.latitude, "longitude": p.longitude}
                    for p in cast.places
                ],
            }
        )

    def _user_id(self, request: web.Request) -> int:
        user_id = int(request.match_info["user_id"])
        self.emu.state.user(user_id)  # KeyError -> 404
        return user_id

    def _snapshot(self, user_id: int) -> JSON:
        user = self.emu.state.user(user_id)
        payload: JSON = {
            "messages": [message_view(m) for m in self.emu.messages(user_id)],
            "commands": [
                {"command": str(c.get("command", "")), "description": str(c.get("description", ""))}
                for c in self.emu.commands_for(user_id, user.language_code or "")
            ],
        }
        payload["version"] = _version(payload)
        return payload

    async def chat(self, request: web.Request) -> web.StreamResponse:
        user_id = self._user_id(request)
        since = request.query.get("since")
        state = self.emu.state
        loop = asyncio.get_running_loop()
        deadline = loop.time() + POLL_SECONDS
        while True:
            snapshot = self._snapshot(user_id)
            remaining = deadline - loop.time()
            if snapshot["version"] != since or state.stopping or remaining <= 0:
                return web.json_response(snapshot)
            await state.wait_change(remaining)

    # --- acting as the persona -----------------------------------------------------
    async def text(self, request: web.Request) -> web.StreamResponse:
        user_id = self._user_id(request)
        text = (await _body(request)).get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("type a message first")
        if utf16_len(text) > TEXT_LIMIT:
            raise ValueError(f"a message can be at most {TEXT_LIMIT} characters")
        update = self.emu.send_text(user_id, text)
        return web.json_response({"message_id": update["message"]["message_id"]})

    async def press(self, request: web.Request) -> web.StreamResponse:
        """Press a button the persona can see; answer with the bot's callback answer."""
        user_id = self._user_id(request)
        body = await _body(request)
        message_id, data = int(body["message_id"]), str(body["data"])
        message = self.emu.state.find_message(user_id, message_id)
        shown = message_view(message) if message is not None else {}
        if not any(b.get("data") == data for row in shown.get("keyboard", []) for b in row):
            return web.json_response({"error": "that button is no longer there"}, status=409)
        update = self.emu.press_button(user_id, message_id, data)
        query = self.emu.state.callback_queries[update["callback_query"]["id"]]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_SECONDS
        while not query.get("answered") and not self.emu.state.stopping:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.emu.state.wait_change(remaining)
        return web.json_response({"answer": query.get("answer")})

    async def location(self, request: web.Request) -> web.StreamResponse:
        user_id = self._user_id(request)
        body = await _body(request)
        if body.get("place") is not None:
            name = str(body["place"])
            place = next((p for p in self.emu.personas.places if p.name == name), None)
            if place is None:
                raise KeyError(f"no place called {name!r}")
            latitude, longitude = place.latitude, place.longitude
        else:
            latitude = _finite(body["latitude"], "latitude", 90.0)
            longitude = _finite(body["longitude"], "longitude", 180.0)
        update = self.emu.send_location(user_id, latitude, longitude)
        return web.json_response({"message_id": update["message"]["message_id"]})

    async def photo(self, request: web.Request) -> web.StreamResponse:
        user_id = self._user_id(request)
        if request.content_type != "multipart/form-data":
            raise ValueError("send the photo as multipart/form-data")
        form = await request.post()
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            raise ValueError("choose a photo to send")
        data = upload.file.read(PHOTO_LIMIT + 1)
        if not data:
            raise ValueError("that photo is empty")
        if len(data) > PHOTO_LIMIT:
            raise ValueError("photos can be at most 10 MB")
        caption = form.get("caption")
        update = self.emu.send_photo(
            user_id, data, caption=caption if isinstance(caption, str) and caption else None
        )
        return web.json_response({"message_id": update["message"]["message_id"]})
