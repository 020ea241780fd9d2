"""The small JSON control API under ``/_emulator/`` (for a web chat and for scripts).

Errors answer ``{"error": "..."}`` with 400 (bad input), 404 (unknown user or chat) or
409 (clock is not a FakeClock).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.clock import FakeClock
from bot.emulator.models import JSON, EmuMessage, Fault

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator

ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_json(message: EmuMessage) -> JSON:
    data = dataclasses.asdict(message)
    data["date"] = message.date.isoformat()
    data["edit_date"] = message.edit_date.isoformat() if message.edit_date else None
    return data


async def _body(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "body must be JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


def _guard(handler: ControlHandler) -> ControlHandler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except KeyError as exc:
            return web.json_response(
                {"error": str(exc.args[0]) if exc.args else "not found"}, status=404
            )
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return wrapped


class Control:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self, app: web.Application) -> None:
        add = app.router
        add.add_get("/_emulator/calls", _guard(self.calls))
        add.add_post("/_emulator/users", _guard(self.users))
        add.add_post("/_emulator/groups", _guard(self.groups))
        add.add_post("/_emulator/send_text", _guard(self.send_text))
        add.add_post("/_emulator/press", _guard(self.press))
        add.add_post("/_emulator/location", _guard(self.location))
        add.add_get("/_emulator/chats/{chat_id}/messages", _guard(self.messages))
        add.add_post("/_emulator/faults", _guard(self.add_fault))
        add.add_delete("/_emulator/faults", _guard(self.clear_faults))
        add.add_post("/_emulator/clock/advance", _guard(self.advance))

    async def calls(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([call.to_json() for call in self.emu.calls])

    async def users(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        user = self.emu.add_user(
            first_name=str(body["first_name"]),
            last_name=body.get("last_name"),
            username=body.get("username"),
            user_id=_opt_int(body.get("user_id")),
            language_code=body.get("language_code", "en"),
        )
        return web.json_response(user.to_api(), status=201)

    async def groups(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        chat = self.emu.add_group(
            title=str(body["title"]),
            chat_id=_opt_int(body.get("chat_id")),
            supergroup=bool(body.get("supergroup", False)),
        )
        return web.json_response(chat.to_api(), status=201)

    async def send_text(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        update = self.emu.send_text(
            int(body["user_id"]), str(body["text"]), chat_id=_opt_int(body.get("chat_id"))
        )
        return web.json_response(update)

    async def press(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        update = self.emu.press_button(
            int(body["user_id"]),
            int(body["message_id"]),
            str(body["data"]),
            chat_id=_opt_int(body.get("chat_id")),
        )
        return web.json_response(update)

    async def location(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        update = self.emu.send_location(
            int(body["user_id"]),
            float(body["latitude"]),
            float(body["longitude"]),
            chat_id=_opt_int(body.get("chat_id")),
        )
        return web.json_response(update)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        chat_id = int(request.match_info["chat_id"])
        self.emu.get_chat(chat_id)
        return web.json_response([message_json(m) for m in self.emu.messages(chat_id)])

    async def add_fault(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        fields = [f.name for f in dataclasses.fields(Fault) if f.init]
        unknown = set(body) - set(fields)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        fault = Fault(**body)
        self.emu.inject_fault(fault)
        return web.json_response({name: getattr(fault, name) for name in fields}, status=201)

    async def clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.emu.clear_faults()
        return web.json_response({"ok": True})

    async def advance(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        clock = self.emu.clock
        if not isinstance(clock, FakeClock):
            return web.json_response({"error": "the emulator clock is not a FakeClock"}, status=409)
        now = clock.advance(float(body["seconds"]))
        self.emu.state.notify()
        return web.json_response({"now": now.isoformat()})


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
