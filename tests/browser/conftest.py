"""Browser tests: Playwright for Python driving Debian's ``chromium`` (never a browser
Playwright downloads) against the sandbox web chat, on the end-to-end harness.

The page does not care which database the bot uses, so a CI run needs these once:
``scripts/test`` sets ``HOMEWARD_BROWSER_TESTS=0`` on its PostgreSQL pass. Any other
run (``pytest tests/browser`` on either backend) includes them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.e2e.conftest import emulator, nominatim, world

__all__ = ["artifacts", "browser", "emulator", "nominatim", "world"]

if os.environ.get("HOMEWARD_BROWSER_TESTS", "1") == "0":
    collect_ignore_glob = ["test_*.py"]

CHROMIUM = os.environ.get("HOMEWARD_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium; "
            "scripts/test does) or point HOMEWARD_CHROMIUM at one"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go: $HOMEWARD_TEST_ARTIFACTS or ./test-artifacts (git-ignored)."""
    root = Path(os.environ.get("HOMEWARD_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = root / "webchat"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
