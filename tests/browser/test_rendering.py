"""How the web chat draws what the bot sends: Telegram formatting as DOM nodes, never
markup; only web and tg: links; plain addresses linked; a bot deep link starts the bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, expect

from bot.emulator import Emulator
from bot.emulator.personas import Persona
from tests.browser.helpers import watch

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


async def bot_call(emu: Emulator, method: str, **params: Any) -> Any:
    async with (
        aiohttp.ClientSession(trust_env=False) as http,
        http.post(f"{emu.base_url}{emu.token}/{method}", json=params) as response,
    ):
        body = await response.json()
    assert body["ok"], body
    return body["result"]


async def test_formatting_links_and_hostile_text(
    emulator: Emulator, browser: Browser, artifacts: Path
) -> None:
    ana = emulator.add_user("Ana", "Staff")
    emulator.personas.add(Persona(ana.id, "Ana Staff, residence staff", "residence_staff"))
    escaped = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    await bot_call(
        emulator,
        "sendMessage",
        chat_id=ana.id,
        parse_mode="HTML",
        text=(
            f"<b>Name: <i>{escaped}</i></b>\n"
            '<a href="javascript:window.__pwned=3">a trap</a> and '
            '<a href="https://example.org/guide">the guide</a>\n'
            "<code>HW-1234</code> <s>old</s> <u>new</u> <tg-spoiler>secret</tg-spoiler>\n"
            f"Join: https://t.me/{emulator.bot_username}?start=abc123."
        ),
        reply_markup={
            "inline_keyboard": [
                [{"text": "Guide", "url": "https://example.org/guide"}],
                [{"text": "Trap", "url": "javascript:window.__pwned=4"}],
            ]
        },
        protect_content=True,
    )
    errors: list[str] = []
    page = await browser.new_page(viewport={"width": 900, "height": 700})
    watch(page, errors)
    await page.goto(emulator.chat_url)
    chat = page.locator('.pane[data-key="a"]')
    message = chat.locator("li.msg.from-bot")
    await expect(message).to_have_count(1)
    text = message.locator(".text")

    # Hostile text is shown as text, inside the formatting the bot asked for.
    await expect(text.locator("b > i")).to_have_text(HOSTILE)
    assert await text.locator("img, script").count() == 0
    await expect(text.locator("code")).to_have_text("HW-1234")
    await expect(text.locator("s")).to_have_text("old")
    await expect(text.locator("u")).to_have_text("new")
    # Only web links become links; a javascript: link stays inert text.
    await expect(text.locator("a", has_text="the guide")).to_have_attribute(
        "href", "https://example.org/guide"
    )
    await expect(text.locator(".link-refused")).to_have_text("a trap")
    assert await page.locator('[href^="javascript"]').count() == 0
    await expect(message.locator(".keyboard a")).to_have_attribute(
        "href", "https://example.org/guide"
    )
    await expect(message.locator(".keyboard button", has_text="Trap")).to_be_disabled()
    await expect(message.locator(".lock")).to_have_text("Protected")
    spoiler = text.locator(".spoiler")
    await spoiler.click()
    await expect(spoiler).to_have_class("spoiler revealed")
    await page.screenshot(path=artifacts / "rendering.png")

    # A link to this bot with ?start= starts it, as Telegram does when one is opened.
    deep_link = text.locator("a", has_text="t.me/")
    await expect(deep_link).to_have_text(f"https://t.me/{emulator.bot_username}?start=abc123")
    await deep_link.click()
    await expect(chat.locator("li.msg.from-me .text")).to_have_text("/start abc123")
    assert [m.text for m in emulator.messages(ana.id) if not m.from_bot] == ["/start abc123"]

    # Coordinates typed by hand; nonsense gets a kind word and sends nothing.
    await chat.get_by_role("button", name="Share a location").click()
    await chat.get_by_label("Latitude").fill("91")
    await chat.get_by_label("Longitude").fill("-80.99")
    await chat.get_by_role("button", name="Share coordinates").click()
    await expect(chat.locator(".toast")).to_contain_text("Type a latitude (-90 to 90)")
    await chat.get_by_label("Latitude").fill("46,4917")
    await chat.get_by_role("button", name="Share coordinates").click()
    await expect(chat.locator("li.msg.from-me .pin")).to_contain_text("46.49170, -80.99000")
    assert [m.location for m in emulator.messages(ana.id) if m.location] == [(46.4917, -80.99)]
    assert await page.evaluate("window.__pwned") is None
    await page.close()
    assert errors == []
