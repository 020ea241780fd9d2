"""HTTP front: decodes Bot API requests as PTB sends them, applies faults, records calls.

Connection-level faults are recorded with ``Call.status == 0`` (no HTTP answer was
sent); for ``drop_after_store`` ``Call.response`` holds the answer that was withheld.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator.models import JSON, ApiError, Call, Fault

if TYPE_CHECKING:
    from bot.emulator.api import BotApi
    from bot.emulator.state import State

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "scope",
        "commands",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
        "media",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "from_chat_id",
        "user_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "live_period",
        "reply_to_message_id",
    }
)
FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
BOOL_FIELDS = frozenset(
    {
        "protect_content",
        "disable_notification",
        "drop_pending_updates",
        "show_alert",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
MAX_BODY = 50 * 1024 * 1024
HOLD_SECONDS = 3600.0


def decode_value(name: str, value: str) -> Any:
    """Turn a form field back into the Python value PTB encoded."""
    try:
        if name in JSON_FIELDS:
            return json.loads(value)
        if name in INT_FIELDS:
            return int(value)
        if name in FLOAT_FIELDS:
            return float(value)
        if name in BOOL_FIELDS and value.lower() in {"true", "false"}:
            return value.lower() == "true"
    except ValueError:
        return value
    return value


async def read_params(request: web.Request) -> tuple[JSON, dict[str, bytes]]:
    params: JSON = {}
    files: dict[str, bytes] = {}
    for key, value in request.query.items():
        params[key] = decode_value(key, value)
    if request.method != "POST" or not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: request body must be a JSON object")
        params.update(body)
        return params, files
    form = await request.post()
    for key, field in form.items():
        if isinstance(field, str):
            params[key] = decode_value(key, field)
        elif isinstance(field, web.FileField):
            files[key] = field.file.read()
    return params, files


class Server:
    def __init__(self, state: State, api: BotApi) -> None:
        self.state = state
        self.api = api
        self.faults: list[Fault] = []
        self.stopped = asyncio.Event()
        # Seconds every answer (except long-polling getUpdates) is held back: network and
        # server time, after the request took effect.
        self.latency_seconds = 0.0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)

    def take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id) and fault.fires():
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def record(
        self,
        method: str,
        params: JSON,
        status: int,
        response: JSON,
        chat_id: int | None,
        at: Any,
        received: float = 0.0,
    ) -> Call:
        call = Call(method, params, status, response, at, chat_id, received=received)
        self.state.calls.append(call)
        self.state.notify()
        return call

    async def respond(self, call: Call, body: JSON, status: int) -> web.StreamResponse:
        """Answer after the configured latency, noting when the answer left."""
        if self.latency_seconds > 0 and call.method.lower() != "getupdates":
            await asyncio.sleep(self.latency_seconds)
        call.answered = time.monotonic()
        return web.json_response(body, status=status)

    async def hold(self, request: web.Request, close: bool) -> web.StreamResponse:
        """Answer nothing: optionally close the connection, then wait to be cancelled."""
        if close and request.transport is not None:
            request.transport.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HOLD_SECONDS):
                await self.stopped.wait()
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError

    async def handle_api(self, request: web.Request) -> web.StreamResponse:
        at = self.state.clock.now()
        received = time.monotonic()
        method = request.match_info["method"]
        try:
            params, files = await read_params(request)
        except (ValueError, UnicodeDecodeError):
            params, files = {}, {}
        if not hmac.compare_digest(request.match_info["token"], self.state.token):
            error = ApiError(401, "Unauthorized").to_json()
            self.record(method, params, 401, error, None, at)
            return web.json_response(error, status=401)
        if not self.api.knows(method):
            error = ApiError(404, "Not Found").to_json()
            self.record(method, params, 404, error, None, at)
            return web.json_response(error, status=404)
        chat_id = self.api.call_chat_id(method, params)
        fault = self.take_fault(method, chat_id)
        if fault is not None:
            fault_error = fault.error(chat_id)
            if fault_error is not None:
                body = fault_error.to_json()
                call = self.record(method, params, fault_error.code, body, chat_id, at, received)
                return await self.respond(call, body, fault_error.code)
            if fault.kind in {"refuse", "timeout"}:
                self.record(
                    method, params, 0, {"ok": False, "fault": fault.kind}, chat_id, at, received
                )
                return await self.hold(request, close=fault.kind == "refuse")
        status, body = await self.answer(method, params, files)
        if fault is not None and fault.kind == "drop_after_store":
            self.record(method, params, 0, body, chat_id, at, received)
            return await self.hold(request, close=True)
        call = self.record(method, params, status, body, chat_id, at, received)
        return await self.respond(call, body, status)

    async def answer(self, method: str, params: JSON, files: dict[str, bytes]) -> tuple[int, JSON]:
        try:
            result = await self.api.dispatch(method, params, files)
        except ApiError as error:
            return error.code, error.to_json()
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            name = type(exc).__name__
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: invalid parameters ({name})",
            }
        return 200, {"ok": True, "result": result}

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        if not hmac.compare_digest(request.match_info["token"], self.state.token):
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        stored = self.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")
