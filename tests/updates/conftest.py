"""The update and sighting journeys run on the end-to-end harness (real app, emulator,
both backends)."""

from tests.e2e.conftest import emulator, nominatim, world

__all__ = ["emulator", "nominatim", "world"]
