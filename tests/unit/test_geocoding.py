"""NominatimGeocoder against the fake Nominatim (trust scenario T13)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import time
import warnings
from collections.abc import AsyncIterator

import pytest
from geopy import __version__ as geopy_version
from geopy.adapters import AioHTTPAdapter
from geopy.exc import ConfigurationError, GeocoderServiceError
from geopy.geocoders import Nominatim

from bot.geocoding import (
    MAX_LABEL_CHARS,
    DisabledGeocoder,
    NominatimGeocoder,
    build_geocoder,
    normalise_query,
)
from bot.services.ports import GeocodeResult, GeocodingUnavailable
from bot.settings import GeocodingSettings
from tests.fakes.nominatim import GARBAGE_KINDS, FakeNominatim, GarbageKind

ADDRESS = "12 Main Street, Ottawa"
PLACE = (45.4215296, -75.6971931, "12, Main Street, Old Ottawa East, Ottawa, Ontario, Canada")
OTHER = "250 Yonge St, Toronto"
OTHER_PLACE = (43.6545, -79.3807, "250, Yonge Street, Toronto, Ontario, Canada")
THIRD = "1 Rue Notre-Dame, Montréal"
THIRD_PLACE = (45.5048, -73.5572, "1, Rue Notre-Dame Est, Montréal, Québec, Canada")
ALLOWED_PARAMS = {"q", "format", "limit", "countrycodes", "accept-language"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeNominatim]:
    async with FakeNominatim({ADDRESS: PLACE, OTHER: OTHER_PLACE, THIRD: THIRD_PLACE}) as server:
        yield server


async def test_known_address_is_found(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings()) as geocoder:
        result = await geocoder.geocode(ADDRESS)
    assert result == GeocodeResult(latitude=PLACE[0], longitude=PLACE[1], label=PLACE[2])
    assert fake.request_count == 1


async def test_unknown_address_is_none(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings()) as geocoder:
        assert await geocoder.geocode("99 Nowhere Road, Atlantis") is None
    assert fake.request_count == 1


async def test_repeats_are_served_from_the_cache(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings()) as geocoder:
        first = await geocoder.geocode(ADDRESS)
        again = await geocoder.geocode(ADDRESS)
        # Same address, other case and spacing: still the cache.
        variant = await geocoder.geocode("  12   MAIN street,\tottawa ")
        assert fake.request_count == 1
        assert first == again == variant

        # "Nothing found" is cached as well.
        assert await geocoder.geocode("99 Nowhere Road") is None
        assert await geocoder.geocode("99 nowhere road") is None
        assert fake.request_count == 2
        assert geocoder.requests_sent == 2


async def test_concurrent_identical_lookups_send_one_request(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings()) as geocoder:
        results = await asyncio.gather(*(geocoder.geocode(ADDRESS) for _ in range(5)))
    assert len(set(results)) == 1
    assert fake.request_count == 1


async def test_cache_is_a_bounded_lru(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings(), cache_size=2) as geocoder:
        await geocoder.geocode(ADDRESS)
        await geocoder.geocode(OTHER)
        await geocoder.geocode(ADDRESS)  # refreshes ADDRESS; OTHER is now the oldest
        await geocoder.geocode(THIRD)  # evicts OTHER
        assert fake.request_count == 3
        await geocoder.geocode(ADDRESS)
        assert fake.request_count == 3
        await geocoder.geocode(OTHER)
        assert fake.request_count == 4


async def test_cache_entries_expire(fake: FakeNominatim) -> None:
    now = [1000.0]
    async with NominatimGeocoder(
        fake.settings(),
        found_ttl_seconds=60,
        not_found_ttl_seconds=10,
        monotonic=lambda: now[0],
    ) as geocoder:
        await geocoder.geocode(ADDRESS)
        await geocoder.geocode("99 Nowhere Road")
        now[0] += 11  # the miss expired, the hit did not
        await geocoder.geocode(ADDRESS)
        await geocoder.geocode("99 Nowhere Road")
        assert fake.request_count == 3
        now[0] += 60
        await geocoder.geocode(ADDRESS)
        assert fake.request_count == 4
        geocoder.clear_cache()
        await geocoder.geocode(ADDRESS)
        assert fake.request_count == 5


async def test_requests_are_spaced_by_min_delay(fake: FakeNominatim) -> None:
    """Real time is the property here: arrivals at the server are ≥ min_delay apart."""
    min_delay = 0.2
    async with NominatimGeocoder(fake.settings(min_delay_seconds=min_delay)) as geocoder:
        await geocoder.geocode(ADDRESS)
        await geocoder.geocode(OTHER)  # in a row
        await asyncio.gather(  # and concurrently
            geocoder.geocode(THIRD),
            geocoder.geocode("99 Nowhere Road"),
            geocoder.geocode("98 Nowhere Road"),
        )
    arrivals = [r.arrived_at for r in fake.requests]
    assert len(arrivals) == 5
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= min_delay, gaps


async def test_failures_also_pace_the_next_request(fake: FakeNominatim) -> None:
    fake.mode = "down"
    async with NominatimGeocoder(fake.settings(min_delay_seconds=0.2)) as geocoder:
        with pytest.raises(GeocodingUnavailable):
            await geocoder.geocode(ADDRESS)
        fake.mode = "ok"
        assert await geocoder.geocode(ADDRESS) is not None  # a failure is not cached
    first, second = fake.requests
    assert second.arrived_at - first.arrived_at >= 0.2


async def test_custom_user_agent_is_sent(fake: FakeNominatim) -> None:
    agent = "homeward-bot/0.1 (ops@care-home.example)"
    async with NominatimGeocoder(fake.settings(user_agent=agent)) as geocoder:
        await geocoder.geocode(ADDRESS)
    assert fake.requests[0].user_agent == agent


async def test_only_the_address_is_sent(fake: FakeNominatim) -> None:
    typed = "  12 Main Street,\n  Ottawa  "  # pasted over two lines
    async with NominatimGeocoder(fake.settings()) as geocoder:
        await geocoder.geocode(typed)
    (request,) = fake.requests
    assert request.method == "GET"
    assert request.path == "/search"
    assert request.params["q"] == "12 Main Street, Ottawa" == normalise_query(typed)
    assert set(request.params) <= ALLOWED_PARAMS
    assert request.params["format"] == "json"
    assert request.params["limit"] == "1"
    assert request.params["countrycodes"] == "ca"
    assert request.params["accept-language"] == "en"
    assert "addressdetails" not in request.params
    # No free text anywhere else: not in other parameters, not in headers.
    for name, value in request.params.items():
        if name != "q":
            assert "main" not in value.casefold()
    assert not any("main" in value.casefold() for value in request.headers.values())
    assert "Cookie" not in request.headers


async def test_country_codes_are_configurable(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings(), country_codes=None) as anywhere:
        await anywhere.geocode(ADDRESS)
    async with NominatimGeocoder(fake.settings(), country_codes="ca,us") as two:
        await two.geocode(ADDRESS)
    assert "countrycodes" not in fake.requests[0].params
    assert fake.requests[1].params["countrycodes"] == "ca,us"


async def test_down_is_unavailable(fake: FakeNominatim) -> None:
    fake.mode = "down"
    async with NominatimGeocoder(fake.settings()) as geocoder:
        with pytest.raises(GeocodingUnavailable):
            await geocoder.geocode(ADDRESS)
    assert fake.request_count == 1


async def test_connection_refused_is_unavailable(fake: FakeNominatim) -> None:
    settings = fake.settings(timeout_seconds=1.0)
    await fake.close()  # nothing listens on that port any more
    async with NominatimGeocoder(settings) as geocoder:
        with pytest.raises(GeocodingUnavailable):
            await geocoder.geocode(ADDRESS)


async def test_blackhole_times_out_quickly_and_the_fake_stops_cleanly() -> None:
    fake = FakeNominatim({ADDRESS: PLACE}, mode="blackhole")
    async with fake:
        async with NominatimGeocoder(fake.settings(timeout_seconds=0.3)) as geocoder:
            started = time.monotonic()
            with pytest.raises(GeocodingUnavailable):
                await geocoder.geocode(ADDRESS)
            elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 1.0, elapsed
        assert fake.request_count == 1
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 1.5
    assert fake.held == 0


async def test_callers_queued_behind_a_blackhole_give_up_in_bounded_time() -> None:
    async with FakeNominatim(mode="blackhole") as fake:
        geocoder = NominatimGeocoder(fake.settings(timeout_seconds=0.3), max_queue_wait_seconds=0.2)
        async with geocoder:
            started = time.monotonic()
            outcomes = await asyncio.gather(
                *(geocoder.geocode(f"{n} Main Street") for n in range(1, 4)),
                return_exceptions=True,
            )
            elapsed = time.monotonic() - started
    assert all(isinstance(o, GeocodingUnavailable) for o in outcomes)
    assert sorted(str(o) for o in outcomes) == ["GeocoderTimedOut", "busy", "busy"]
    assert fake.request_count == 1
    assert elapsed < 1.0


@pytest.mark.parametrize("kind", GARBAGE_KINDS)
async def test_garbage_is_unavailable(fake: FakeNominatim, kind: GarbageKind) -> None:
    fake.mode = "garbage"
    fake.garbage = kind
    async with NominatimGeocoder(fake.settings()) as geocoder:
        with pytest.raises(GeocodingUnavailable):
            await geocoder.geocode(ADDRESS)
        # Nothing cached: once the service is sane again, the same address works.
        fake.mode = "ok"
        assert await geocoder.geocode(ADDRESS) is not None
    assert fake.request_count == 2


async def test_label_is_truncated(fake: FakeNominatim) -> None:
    fake.add("1 Long Road", 45.0, -75.0, "x" * 1000 + "\u202e\x00")
    async with NominatimGeocoder(fake.settings()) as geocoder:
        result = await geocoder.geocode("1 Long Road")
    assert result is not None
    assert len(result.label) == MAX_LABEL_CHARS


async def test_disabled_is_unavailable_without_any_request(fake: FakeNominatim) -> None:
    geocoder = build_geocoder(fake.settings(enabled=False))
    assert isinstance(geocoder, DisabledGeocoder)
    async with geocoder:
        with pytest.raises(GeocodingUnavailable):
            await geocoder.geocode(ADDRESS)
    assert fake.request_count == 0


async def test_build_geocoder_when_enabled(fake: FakeNominatim) -> None:
    geocoder = build_geocoder(fake.settings())
    assert isinstance(geocoder, NominatimGeocoder)
    async with geocoder:
        assert await geocoder.geocode(ADDRESS) is not None


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "ab",
        " ab ",
        "x" * 201,
        "12 Main St\x00",
        "12 Main St\x1b[31m",
        "12 Main St\x7f",
        "12 Main\u202eSt",  # bidi override
        "12 Main\u200bSt",  # zero-width space
        "12 Main St\ud800",  # lone surrogate
    ],
)
async def test_refused_queries_send_nothing(fake: FakeNominatim, query: str) -> None:
    async with NominatimGeocoder(fake.settings()) as geocoder:
        assert await geocoder.geocode(query) is None
    assert fake.request_count == 0


async def test_length_limits_are_inclusive(fake: FakeNominatim) -> None:
    async with NominatimGeocoder(fake.settings()) as geocoder:
        assert await geocoder.geocode("abc") is None  # sent, not found
        assert await geocoder.geocode("y" * 200) is None
    assert [len(r.params["q"]) for r in fake.requests] == [3, 200]


async def test_lookup_before_start_starts_and_after_close_is_unavailable(
    fake: FakeNominatim,
) -> None:
    geocoder = NominatimGeocoder(fake.settings())
    try:
        assert await geocoder.geocode(ADDRESS) is not None
    finally:
        await geocoder.close()
    with pytest.raises(GeocodingUnavailable):
        await geocoder.geocode(OTHER)
    assert await geocoder.geocode(ADDRESS) is not None  # cached answers need no network
    assert fake.request_count == 1


async def test_close_during_a_lookup_makes_it_unavailable() -> None:
    async with FakeNominatim(mode="blackhole") as fake:
        geocoder = NominatimGeocoder(fake.settings(timeout_seconds=5.0))
        await geocoder.start()
        lookup = asyncio.create_task(geocoder.geocode(ADDRESS))
        await fake.wait_for_requests(1)
        started = time.monotonic()
        await geocoder.close()
        with pytest.raises(GeocodingUnavailable, match=r"^closed$"):
            await lookup
        assert time.monotonic() - started < 1.0


async def test_close_leaves_no_unclosed_session(fake: FakeNominatim) -> None:
    geocoder = NominatimGeocoder(fake.settings())
    await geocoder.start()
    assert await geocoder.geocode(ADDRESS) is not None
    session = geocoder._client.adapter.session
    await geocoder.close()
    assert session.closed
    assert geocoder._client is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del session, geocoder  # the last references: finalisers run here, inside the catch
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []

    # Control: the same check does see a session that was never closed.
    leaky = Nominatim(
        domain=fake.domain,
        scheme="http",
        user_agent="homeward-tests/1.0",
        proxies={},
        adapter_factory=AioHTTPAdapter,
    )
    assert not leaky.adapter.session.closed  # created lazily, never closed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del leaky
        gc.collect()
    assert any("Unclosed client session" in str(w.message) for w in caught)


async def test_environment_proxies_are_ignored(
    fake: FakeNominatim, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")

    async with NominatimGeocoder(fake.settings(timeout_seconds=1.0)) as geocoder:
        assert await geocoder.geocode(ADDRESS) is not None
    (request,) = fake.requests  # reached the fake directly
    assert request.path == "/search"  # a proxied request would carry an absolute URI

    # Control: geopy's default (proxies=None) would have used the discard port as a proxy.
    async with Nominatim(
        domain=fake.domain,
        scheme="http",
        user_agent="homeward-tests/1.0",
        timeout=1.0,
        adapter_factory=AioHTTPAdapter,
    ) as naive:
        with pytest.raises(GeocoderServiceError):  # GeocoderUnavailable: refused at :9
            await naive.geocode(ADDRESS)
    assert fake.request_count == 1


async def test_the_address_is_never_logged(
    fake: FakeNominatim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_address = "77 Sunnyside Crescent, Kanata"
    async with NominatimGeocoder(fake.settings()) as geocoder:
        await geocoder.geocode(secret_address)  # found nothing
        for mode in ("down", "garbage"):
            fake.mode = mode
            geocoder.clear_cache()
            with pytest.raises(GeocodingUnavailable):
                await geocoder.geocode(secret_address)
    assert fake.request_count == 3
    assert any("geocoding lookup failed" in r.getMessage() for r in caplog.records)
    for needle in ("Sunnyside", "sunnyside", "Sunnyside+Crescent", "Kanata"):
        assert needle not in caplog.text
    assert logging.getLogger("geopy").getEffectiveLevel() >= logging.WARNING


async def test_unavailable_carries_no_chained_detail(fake: FakeNominatim) -> None:
    fake.mode = "garbage"
    fake.garbage = "html"
    async with NominatimGeocoder(fake.settings()) as geocoder:
        with pytest.raises(GeocodingUnavailable) as info:
            await geocoder.geocode(ADDRESS)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert "Main" not in str(info.value)


def test_normalise_query() -> None:
    assert normalise_query("  12\u00a0Main\tSt \n") == "12 Main St"
    assert normalise_query("ab") is None
    assert normalise_query("abc") == "abc"


async def test_a_banned_user_agent_fails_start_and_lookups_without_network() -> None:
    settings = GeocodingSettings(user_agent=f"geopy/{geopy_version}")  # the public server
    with pytest.raises(ConfigurationError):
        await NominatimGeocoder(settings).start()
    geocoder = NominatimGeocoder(settings)
    with pytest.raises(GeocodingUnavailable, match="ConfigurationError"):
        await geocoder.geocode(ADDRESS)
    await geocoder.close()
