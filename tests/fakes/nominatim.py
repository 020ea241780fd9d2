"""A fake Nominatim ``/search`` endpoint on 127.0.0.1 for geocoding tests (trust scenario T13).

Usage::

    async with FakeNominatim({"12 Main St, Ottawa": (45.42, -75.69, "12, Main Street, Ottawa")})
        as fake:
        geocoder = NominatimGeocoder(fake.settings(min_delay_seconds=0))
        ...
        fake.mode = "down"
        assert fake.requests[0].params["q"] == "12 Main St, Ottawa"

Modes (switchable at any time through :attr:`FakeNominatim.mode`):

* ``"ok"``: known addresses (matched case-insensitively, whitespace collapsed) answer one hit in
  Nominatim's ``format=json`` / ``jsonv2`` shape; anything else answers ``[]``.
* ``"down"``: 503 with a short HTML body, like a proxy in front of a dead Nominatim.
* ``"blackhole"``: the request is read, then never answered (until the client gives up or the
  fake shuts down; shutdown releases every held request, so it stops promptly).
* ``"garbage"``: 200 with an unusable body, chosen by :attr:`FakeNominatim.garbage`
  (see :data:`GARBAGE_KINDS`).

Every request is recorded (path, query parameters, headers, monotonic arrival time), whatever
the mode, *before* the mode is applied.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

from bot.settings import GeocodingSettings

Mode = Literal["ok", "down", "blackhole", "garbage"]
GarbageKind = Literal[
    "bad_json",  # truncated JSON, served as application/json
    "html",  # an HTML page with status 200
    "lat_text",  # lat="abc"
    "lat_range",  # lat="999"
    "lon_range",  # lon="-200.5"
    "nan",  # lat="nan"
    "missing_coords",  # a hit without lat/lon
    "not_an_object",  # ["just a string"]
    "error_object",  # {"error": "..."} as Nominatim does for bad parameters
]
GARBAGE_KINDS: tuple[GarbageKind, ...] = (
    "bad_json",
    "html",
    "lat_text",
    "lat_range",
    "lon_range",
    "nan",
    "missing_coords",
    "not_an_object",
    "error_object",
)

WAIT_FOR_REQUESTS_MAX_SECONDS = 10.0
BLACKHOLE_MAX_HOLD_SECONDS = 60.0  # a safety net; shutdown releases held requests at once


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    params: Mapping[str, str]  # the last value of each query parameter
    raw_query: str
    headers: Mapping[str, str]
    arrived_at: float  # time.monotonic() when the handler saw it

    @property
    def user_agent(self) -> str | None:
        return self.headers.get("User-Agent")


class FakeNominatim:
    """An aiohttp server imitating Nominatim's search API. Async context manager."""

    def __init__(
        self,
        places: Mapping[str, tuple[float, float, str]] | None = None,
        *,
        mode: Mode = "ok",
        garbage: GarbageKind = "bad_json",
    ) -> None:
        self._places: dict[str, tuple[float, float, str]] = {}
        for address, place in (places or {}).items():
            self.add(address, *place)
        self.mode: Mode = mode
        self.garbage: GarbageKind = garbage
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._held = 0
        self._arrived = asyncio.Event()
        self._port: int | None = None

    # -- configuration -----------------------------------------------------------------------

    def add(self, address: str, latitude: float, longitude: float, display_name: str) -> None:
        self._places[_normalise(address)] = (latitude, longitude, display_name)

    @property
    def domain(self) -> str:
        """``127.0.0.1:PORT``, for ``GeocodingSettings(scheme="http", domain=...)``."""
        if self._port is None:
            raise RuntimeError("FakeNominatim is not running")
        return f"127.0.0.1:{self._port}"

    def settings(self, **overrides: Any) -> GeocodingSettings:
        """Geocoding settings pointing at this fake (fast defaults; override freely)."""
        values: dict[str, Any] = {
            "enabled": True,
            "domain": self.domain,
            "scheme": "http",
            "user_agent": "homeward-tests/1.0 (tests@example.invalid)",
            "timeout_seconds": 2.0,
            "min_delay_seconds": 0.0,
        }
        values.update(overrides)
        return GeocodingSettings(**values)

    # -- observations ------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        return len(self.requests)

    @property
    def held(self) -> int:
        """Requests currently held open by the blackhole."""
        return self._held

    async def wait_for_requests(self, count: int = 1) -> None:
        """Return once at least ``count`` requests have arrived (TimeoutError after 10 s)."""
        async with asyncio.timeout(WAIT_FOR_REQUESTS_MAX_SECONDS):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def search_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/") in ("/search", "/search.php")]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if self._release is not None:
            self._release.set()  # let blackholed handlers finish so shutdown is immediate
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the endpoint ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                params={key: request.query.getall(key)[-1] for key in request.query},
                raw_query=request.query_string,
                headers=dict(request.headers),
                arrived_at=time.monotonic(),
            )
        )
        self._arrived.set()
        if request.path.rstrip("/") not in ("/search", "/search.php"):
            return web.json_response({"error": "unknown endpoint"}, status=404)

        mode = self.mode
        if mode == "down":
            return web.Response(
                status=503,
                text="<html><body>503 Service Unavailable</body></html>",
                content_type="text/html",
            )
        if mode == "blackhole":
            return await self._blackhole()
        if mode == "garbage":
            return self._garbage()
        return self._search(request)

    async def _blackhole(self) -> web.StreamResponse:
        assert self._release is not None
        self._held += 1
        try:
            # Returns when the fake shuts down (or, as a safety net, after a long minute).
            async with asyncio.timeout(BLACKHOLE_MAX_HOLD_SECONDS):
                await self._release.wait()
        except TimeoutError:
            pass
        finally:
            self._held -= 1
        return web.Response(status=504, text="released")

    def _garbage(self) -> web.Response:
        kind = self.garbage
        place: dict[str, Any] = {
            "place_id": 1,
            "lat": "45.0",
            "lon": "-75.0",
            "display_name": "Garbage Place",
        }
        if kind == "bad_json":
            return web.Response(text='[{"lat": "45.0", "lon":', content_type="application/json")
        if kind == "html":
            return web.Response(text="<html><body>Hello</body></html>", content_type="text/html")
        if kind == "lat_text":
            place["lat"] = "abc"
        elif kind == "lat_range":
            place["lat"] = "999"
        elif kind == "lon_range":
            place["lon"] = "-200.5"
        elif kind == "nan":
            place["lat"] = "nan"
        elif kind == "missing_coords":
            del place["lat"], place["lon"]
        elif kind == "not_an_object":
            return web.json_response(["just a string"])
        elif kind == "error_object":
            return web.json_response({"error": "Parameter 'q' is invalid"})
        return web.json_response([place])

    def _search(self, request: web.Request) -> web.Response:
        query = request.query
        fmt = query.get("format", "xml")
        if fmt not in ("json", "jsonv2"):
            return web.Response(status=400, text="only json/jsonv2 are faked")
        q = query.get("q")
        if q is None:
            return web.json_response({"error": "structured queries are not faked"}, status=400)
        try:
            limit = max(1, min(40, int(query.get("limit", "10"))))
        except ValueError:
            limit = 10
        found = self._places.get(_normalise(q))
        hits: list[dict[str, Any]] = []
        if found is not None:
            lat, lon, name = found
            hit: dict[str, Any] = {
                "place_id": 100000 + len(self._places),
                "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
                "osm_type": "node",
                "osm_id": 1,
                "lat": f"{lat:.7f}",
                "lon": f"{lon:.7f}",
                "display_name": name,
                "boundingbox": [
                    f"{lat - 0.001:.7f}",
                    f"{lat + 0.001:.7f}",
                    f"{lon - 0.001:.7f}",
                    f"{lon + 0.001:.7f}",
                ],
                "importance": 0.5,
            }
            if fmt == "jsonv2":
                hit.update({"category": "place", "type": "house", "place_rank": 30})
            else:
                hit.update({"class": "place", "type": "house"})
            hits.append(hit)
        return web.Response(
            text=json.dumps(hits[:limit]),
            content_type="application/json",
            charset="utf-8",
        )
