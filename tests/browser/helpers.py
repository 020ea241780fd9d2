"""Shared by the browser tests."""

from __future__ import annotations

from playwright.async_api import Page, expect

TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def watch(page: Page, errors: list[str]) -> None:
    """Every page error and console error becomes a test failure."""
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
