"""The real sandbox (seeded world, web chat) in a browser: the cast is offered by name,
a staff member opens a youth's sealed profile with its locally drawn photo, and the
location picker offers the world's named places. Any JavaScript error fails it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from bot.sandbox import Sandbox
from bot.sandbox_world import PERSONA_KEYS, PLACES
from tests.browser.helpers import watch
from tests.browser.test_webchat import image_loaded, last, pane, say
from tests.sandbox.conftest import sandbox, settings

__all__ = ["sandbox", "settings"]


async def test_the_seeded_sandbox_in_the_web_chat(
    sandbox: Sandbox, browser: Browser, artifacts: Path
) -> None:
    errors: list[str] = []
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    watch(page, errors)
    await page.goto(sandbox.emulator.chat_url)
    staff = pane(page, "a")
    picker = staff.get_by_label("Persona")
    options = await picker.locator("option").all_inner_texts()
    for key in PERSONA_KEYS:
        label = sandbox.world.person(key).label
        assert any(label.split(" — ")[0] in o for o in options), (key, options)

    await picker.select_option(str(sandbox.world.person("staff1").user_id))
    await say(staff, "/youth")
    listing = last(staff)
    await expect(listing).to_contain_text("Jay")
    await listing.get_by_role("button", name="Jay", exact=False).first.click()
    photo = staff.locator("li.msg.from-bot.protected", has_text="sealed profile photo")
    await expect(photo).to_have_count(1)
    assert await image_loaded(photo.locator("img.photo"))
    await expect(
        staff.locator("li.msg.from-bot.protected", has_text="FICTIONAL")
    ).not_to_have_count(0)

    await staff.get_by_role("button", name="Share a location").click()
    places = await staff.get_by_label("Named place").locator("option").all_inner_texts()
    for name in PLACES:
        assert any(name in p for p in places), (name, places)
    await page.screenshot(path=artifacts / "sandbox-seeded-profile.png")
    await page.close()
    assert errors == []
