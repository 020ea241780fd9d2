"""Address → coordinates through Nominatim (geopy + aiohttp), behind the ``Geocoder`` port.

What this adapter promises (trust scenario T13):

* Only the address text leaves the process: ``q`` plus fixed technical parameters
  (``format``, ``limit=1``, ``countrycodes``, ``accept-language``). Never names or descriptions.
* At most one request per ``min_delay_seconds``, measured from the *end* of the previous
  request to the start of the next, and never two requests at once (the public Nominatim allows
  1 request/s from a real User-Agent and requires caching).
* Repeats are answered from a bounded LRU cache (hits and "nothing found" alike).
* Every failure — timeout, refused connection, HTTP error, malformed JSON, impossible
  coordinates — becomes :class:`GeocodingUnavailable`; the caller then falls back on a manual
  region. Nothing else escapes (cancellation excepted).
* The query text is never logged, neither here nor by geopy (its logger, which logs request
  URLs at DEBUG and error bodies at INFO, is raised to WARNING on start). Exceptions are raised
  ``from None`` so that a traceback logged upstream cannot carry a URL or a response body.

The geopy client (and its aiohttp session) is created in :meth:`NominatimGeocoder.start`, never
at import or construction time, and closed by :meth:`NominatimGeocoder.close`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, Protocol, Self

from geopy.adapters import AioHTTPAdapter
from geopy.geocoders import Nominatim

from bot.services.ports import Geocoder, GeocodeResult, GeocodingUnavailable
from bot.settings import GeocodingSettings

__all__ = [
    "MAX_LABEL_CHARS",
    "MAX_QUERY_CHARS",
    "MIN_QUERY_CHARS",
    "DisabledGeocoder",
    "ManagedGeocoder",
    "NominatimGeocoder",
    "build_geocoder",
    "normalise_query",
]

logger = logging.getLogger(__name__)

MIN_QUERY_CHARS: Final = 3
MAX_QUERY_CHARS: Final = 200
MAX_LABEL_CHARS: Final = 200
DEFAULT_CACHE_SIZE: Final = 1024
DEFAULT_FOUND_TTL_SECONDS: Final = 6 * 3600.0
DEFAULT_NOT_FOUND_TTL_SECONDS: Final = 15 * 60.0

# Unicode categories refused in a query: controls (other than the whitespace folded into
# spaces), format characters (bidi overrides, zero-width), surrogates, private use.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co"})


class ManagedGeocoder(Geocoder, Protocol):
    """A :class:`Geocoder` with a lifecycle: ``start()`` before use, ``close()`` at shutdown."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def normalise_query(query: str) -> str | None:
    """The text actually sent for ``query``, or None when it must not be sent at all.

    Leading/trailing whitespace is stripped and runs of whitespace (including newlines and tabs
    from a pasted multi-line address) become one space. Refused: fewer than
    :data:`MIN_QUERY_CHARS` or more than :data:`MAX_QUERY_CHARS` characters after that, or any
    other control/format/surrogate/private-use character.
    """
    if not isinstance(query, str):
        return None
    text = " ".join(query.split())
    if not MIN_QUERY_CHARS <= len(text) <= MAX_QUERY_CHARS:
        return None
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
        return None
    return text


def _cache_key(text: str) -> str:
    return text.casefold()


class _GarbageAnswer(ValueError):
    """The service answered 200 with something that is not a usable place."""


def _coordinate(value: object, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _GarbageAnswer("coordinate of an unexpected type")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _GarbageAnswer("coordinate is not a number") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise _GarbageAnswer("coordinate out of range")
    return number


def _clean_label(value: object, latitude: float, longitude: float) -> str:
    text = value if isinstance(value, str) else ""
    text = "".join(" " if unicodedata.category(ch) in _REFUSED_CATEGORIES else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        text = f"{latitude:.5f}, {longitude:.5f}"
    if len(text) > MAX_LABEL_CHARS:
        text = text[: MAX_LABEL_CHARS - 1].rstrip() + "…"
    return text


def _parse_place(place: object) -> GeocodeResult:
    """One Nominatim search hit → a validated :class:`GeocodeResult`, else `_GarbageAnswer`."""
    if not isinstance(place, Mapping):
        raise _GarbageAnswer("place is not an object")
    latitude = _coordinate(place.get("lat"), 90.0)
    longitude = _coordinate(place.get("lon"), 180.0)
    return GeocodeResult(
        latitude=latitude,
        longitude=longitude,
        label=_clean_label(place.get("display_name"), latitude, longitude),
    )


class _ValidatingNominatim(Nominatim):  # geopy ships no type hints: Nominatim is Any
    """geopy's Nominatim, but each hit is validated by us instead of becoming a geopy ``Point``.

    geopy's own parsing calls ``float()`` on whatever arrives and builds a ``Point``, which
    *warns* (UserWarning) before raising on a latitude beyond ±90 — an error under
    warnings-as-errors and noise in production. Overriding ``_parse_code`` (stable since geopy
    1.x; pinned by ``geopy~=2.5``) lets us reject garbage without either.
    """

    def _parse_code(self, place: Any) -> GeocodeResult:
        return _parse_place(place)


class NominatimGeocoder:
    """The :class:`Geocoder` port on a Nominatim server (public or self-hosted).

    Use ``async with NominatimGeocoder(settings) as geocoder:`` or call :meth:`start` and
    :meth:`close`. :meth:`geocode` starts the client on first use if :meth:`start` was not
    called (closing is still the owner's job); after :meth:`close` it raises
    :class:`GeocodingUnavailable` until started again.
    """

    def __init__(
        self,
        settings: GeocodingSettings,
        *,
        country_codes: str | None = "ca",
        language: str = "en",
        cache_size: int = DEFAULT_CACHE_SIZE,
        found_ttl_seconds: float = DEFAULT_FOUND_TTL_SECONDS,
        not_found_ttl_seconds: float = DEFAULT_NOT_FOUND_TTL_SECONDS,
        max_queue_wait_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self._settings = settings
        self._country_codes = country_codes or None
        self._language = language
        self._cache_size = cache_size
        self._found_ttl = found_ttl_seconds
        self._not_found_ttl = not_found_ttl_seconds
        # A caller waits for its turn at most this long (one request ahead, worst case, takes
        # the pacing delay plus the timeout); beyond that the answer would come too late to help.
        self._max_queue_wait = (
            max_queue_wait_seconds
            if max_queue_wait_seconds is not None
            else settings.timeout_seconds + settings.min_delay_seconds
        )
        self._monotonic = monotonic
        self._sleep = sleep
        self._cache: OrderedDict[str, tuple[float, GeocodeResult | None]] = OrderedDict()
        self._lock = asyncio.Lock()
        self._next_request_at = -math.inf
        self._client: Any = None
        self._closed = False
        self.requests_sent = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the geopy client (idempotent). Raises geopy's ``ConfigurationError`` for a
        User-Agent the public Nominatim rejects."""
        if self._client is not None:
            return
        _quiet_geopy_logger()
        client = _ValidatingNominatim(
            domain=self._settings.domain,
            scheme=self._settings.scheme,
            user_agent=self._settings.user_agent,
            timeout=self._settings.timeout_seconds,
            proxies={},  # geopy ignores NO_PROXY; never route lookups through an env proxy
            adapter_factory=AioHTTPAdapter,
        )
        # Published before the (non-suspending) __aenter__ so concurrent start()s share one.
        self._client = client
        self._closed = False
        await client.__aenter__()

    async def close(self) -> None:
        """Close the aiohttp session (idempotent). In-flight lookups fail as unavailable."""
        client, self._client = self._client, None
        self._closed = True
        if client is not None:
            await client.__aexit__(None, None, None)

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

    def clear_cache(self) -> None:
        """Forget every cached address (e.g. once an incident is resolved)."""
        self._cache.clear()

    # -- the port ----------------------------------------------------------------------------

    async def geocode(self, query: str) -> GeocodeResult | None:
        text = normalise_query(query)
        if text is None:
            return None
        key = _cache_key(text)
        hit, result = self._cached(key)
        if hit:
            return result
        if self._closed:
            raise GeocodingUnavailable("closed")

        try:
            async with asyncio.timeout(self._max_queue_wait):
                await self._lock.acquire()
        except TimeoutError:
            logger.warning("geocoding lookup failed: busy (waited %.1fs)", self._max_queue_wait)
            raise GeocodingUnavailable("busy") from None
        try:
            # Someone ahead in the queue may just have looked up the same address.
            hit, result = self._cached(key)
            if hit:
                return result
            if self._client is None:
                if self._closed:
                    raise GeocodingUnavailable("closed")
                try:
                    await self.start()
                except Exception as exc:  # e.g. geopy's ConfigurationError for a banned agent
                    logger.warning("geocoding lookup failed: %s", type(exc).__name__)
                    raise GeocodingUnavailable(type(exc).__name__) from None
            wait = self._next_request_at - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            try:
                result = await self._request(text)
            finally:
                self._next_request_at = self._monotonic() + self._settings.min_delay_seconds
        finally:
            self._lock.release()
        self._store(key, result)
        return result

    async def _request(self, text: str) -> GeocodeResult | None:
        client = self._client
        self.requests_sent += 1
        try:
            # geopy hands the timeout to aiohttp as a total; the outer bound is a backstop.
            async with asyncio.timeout(self._settings.timeout_seconds + 1.0):
                answer = await client.geocode(
                    text,
                    exactly_one=True,
                    addressdetails=False,
                    language=self._language,
                    country_codes=self._country_codes,
                )
        except Exception as exc:  # never crash a handler over a geocoder; cancellation passes
            reason = type(exc).__name__
            if isinstance(exc, _GarbageAnswer):
                reason = "garbage"
            elif client is not self._client:
                reason = "closed"
            logger.warning("geocoding lookup failed: %s", reason)
            raise GeocodingUnavailable(reason) from None
        if answer is None:
            return None
        if not isinstance(answer, GeocodeResult):  # pragma: no cover - guards a geopy change
            logger.warning("geocoding lookup failed: unexpected %s", type(answer).__name__)
            raise GeocodingUnavailable("garbage")
        return answer

    # -- cache -------------------------------------------------------------------------------

    def _cached(self, key: str) -> tuple[bool, GeocodeResult | None]:
        entry = self._cache.get(key)
        if entry is None:
            return False, None
        expires_at, result = entry
        if self._monotonic() >= expires_at:
            del self._cache[key]
            return False, None
        self._cache.move_to_end(key)
        return True, result

    def _store(self, key: str, result: GeocodeResult | None) -> None:
        ttl = self._found_ttl if result is not None else self._not_found_ttl
        if ttl <= 0:
            return
        self._cache[key] = (self._monotonic() + ttl, result)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


class DisabledGeocoder:
    """Geocoding switched off (``[geocoding] enabled = false``): every lookup is unavailable,
    so callers take the manual-region path. Sends nothing, anywhere."""

    async def geocode(self, query: str) -> GeocodeResult | None:
        raise GeocodingUnavailable("disabled")

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def build_geocoder(
    settings: GeocodingSettings, *, country_codes: str | None = "ca"
) -> ManagedGeocoder:
    """The configured geocoder; not started (``await geocoder.start()`` or ``async with``)."""
    if not settings.enabled:
        return DisabledGeocoder()
    return NominatimGeocoder(settings, country_codes=country_codes)


def _quiet_geopy_logger() -> None:
    # geopy logs the full request URL (with the address) at DEBUG and HTTP error bodies at INFO.
    geopy_logger = logging.getLogger("geopy")
    if geopy_logger.level == logging.NOTSET or geopy_logger.level < logging.WARNING:
        geopy_logger.setLevel(logging.WARNING)
