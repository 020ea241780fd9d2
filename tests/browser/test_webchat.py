"""The sandbox web chat in a real browser: an alert raised, vetted, delivered and
resolved by personas side by side, at desktop and at phone width.

Any JavaScript error or console error on either page fails the test. Screenshots are
saved as test artefacts (see the ``artifacts`` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from bot import texts
from bot.domain.membership import ROLE_COMMANDS, OrgKind, Role
from bot.domain.outgoing import Outgoing
from bot.emulator.personas import Area, Persona
from tests.browser.helpers import watch
from tests.e2e.conftest import Person, World
from tests.fakes.images import png

MAPLE_HOUSE = (46.4950, -80.9990)
SUDBURY = (46.49, -80.99)
BUS_TERMINAL = (46.4900, -80.9800)
# The youth is fictional; their legal name tries to inject markup into the page.
HOSTILE_NAME = "Jordan <img src=x onerror=window.__pwned=1> Smith"
PROFILE_PHOTO = png(160, 200, (90, 110, 160))
NEWER_PHOTO = png(240, 180, (150, 90, 60))


@dataclass
class Cast:
    sam: Person  # residence staff, Maple House
    cora: Person  # coordinator, Sudbury
    pat: Person  # police, Sudbury


async def seed(world: World) -> Cast:
    """The people, the web chat's personas and places, and a youth profile with a photo."""
    maple = await world.org(OrgKind.RESIDENCE, "Maple House", MAPLE_HOUSE)
    team = await world.org(OrgKind.INTERVENTION_TEAM, "Sudbury Intervention Team")
    police = await world.org(OrgKind.POLICE_SERVICE, "Greater Sudbury Police")
    cast = Cast(
        sam=await world.member("Sam Staff", Role.RESIDENCE_STAFF, maple, area=(*MAPLE_HOUSE, 5)),
        cora=await world.member("Cora Coordinator", Role.COORDINATOR, team, area=(*SUDBURY, 40)),
        pat=await world.member("Pat Police", Role.POLICE, police, area=(*SUDBURY, 20)),
    )
    personas = world.emu.personas
    for order, (person, label, role, area) in enumerate(
        [
            (cast.sam, "Sam Staff, residence staff (Maple House)", Role.RESIDENCE_STAFF, 5),
            (cast.cora, "Cora Coordinator, coordinator", Role.COORDINATOR, 40),
            (cast.pat, "Pat Police, police (Greater Sudbury)", Role.POLICE, 20),
        ]
    ):
        centre = MAPLE_HOUSE if person is cast.sam else SUDBURY
        personas.add(Persona(person.user_id, label, role.value, Area(*centre, area), order))
    personas.add_place("Maple House", *MAPLE_HOUSE)
    personas.add_place("Bus terminal", *BUS_TERMINAL)
    # Seeded members skip registration, so give them the command menu approval would.
    async with world.hw.ctx.uow() as uow:
        for person, role in ((cast.sam, Role.RESIDENCE_STAFF), (cast.cora, Role.COORDINATOR)):
            menu = [(c, texts.COMMAND_DESCRIPTIONS[c]) for c in ROLE_COMMANDS[role]]
            await uow.outbox.add(Outgoing.set_commands(person.user_id, menu), at=world.clock.now())
        await uow.commit()
    await world.settle()

    await world.say(cast.sam, "/addyouth")
    await world.answer(
        cast.sam,
        HOSTILE_NAME,
        "Jay",
        "they/them",
        "2011-05-02",
        PROFILE_PHOTO,
        "5 ft 2, slim, short dyed-blue hair",
        "English",
        "[Skip]",
        "[Skip]",
        BUS_TERMINAL,
        "Bus terminal",
        "[Skip]",
        "[Skip]",
        "Has run to the bus terminal before",
        "[Save profile]",
    )
    return cast


def pane(page: Page, key: str) -> Locator:
    return page.locator(f'.pane[data-key="{key}"]')


def last(chat: Locator) -> Locator:
    return chat.locator("li.msg").last


async def say(chat: Locator, text: str) -> None:
    box = chat.get_by_label("Message", exact=True)
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


async def answer(chat: Locator, question: str, text: str) -> None:
    await expect(last(chat)).to_contain_text(question)
    await say(chat, text)


async def press(chat: Locator, question: str, label: str) -> None:
    """Press ``label`` under the bot's latest message once it asks ``question``."""
    await expect(last(chat)).to_contain_text(question)
    await last(chat).get_by_role("button", name=label, exact=True).click()


async def image_loaded(image: Locator) -> bool:
    return bool(await image.evaluate("i => i.decode().then(() => i.naturalWidth > 0)"))


async def test_an_alert_raised_vetted_delivered_and_resolved_in_the_web_chat(
    world: World, browser: Browser, artifacts: Path
) -> None:
    cast = await seed(world)
    errors: list[str] = []

    # Desktop: two panes side by side, staff on the left, the coordinator on the right.
    desktop = await browser.new_page(viewport={"width": 1280, "height": 900})
    watch(desktop, errors)
    await desktop.goto(world.emu.chat_url)
    staff, second = pane(desktop, "a"), pane(desktop, "b")
    await staff.get_by_label("Persona").select_option(str(cast.sam.user_id))
    await second.get_by_label("Persona").select_option(str(cast.cora.user_id))
    await expect(staff).to_be_visible()
    await expect(second).to_be_visible()
    await expect(second.locator(".area")).to_contain_text("coordinator")

    # The bot's command menu is offered when typing "/".
    box = staff.get_by_label("Message", exact=True)
    await box.fill("/mis")
    suggestion = staff.locator(".suggestions").get_by_role("button", name="/missing")
    await expect(suggestion).to_contain_text("missing")
    await suggestion.click()

    await press(staff, "Who is missing", "Jay")
    await press(staff, "When were they last seen", "30 minutes ago")
    await expect(last(staff)).to_contain_text("Where were they last seen")
    await staff.get_by_role("button", name="Share a location").click()
    await staff.get_by_label("Named place").select_option("Bus terminal")
    await staff.get_by_role("button", name="Share place").click()
    shared = staff.locator("li.msg.from-me .pin").last
    await expect(shared).to_contain_text("46.49000, -80.98000")
    await expect(shared).to_contain_text("km from the centre of this persona's area (inside")
    await answer(staff, "What were they wearing", "Black hoodie, grey joggers, red backpack")
    await answer(staff, "What happened", "Left after dinner; said they were going downtown")
    await expect(last(staff)).to_contain_text("Send a recent photo")
    await staff.locator("input.photo-input").set_input_files(
        files=[{"name": "jay.png", "mimeType": "image/png", "buffer": NEWER_PHOTO}]
    )
    # The profile's photo (sent while seeding) and now this one.
    await expect(staff.locator("li.msg.from-me img.photo")).to_have_count(2)
    for question, label in (
        ("sexual exploitation", "Yes"),
        ("immediate danger", "No"),
        ("medication", "No"),
        ("out of character", "Yes"),
        ("police been told", "No"),
    ):
        await press(staff, question, label)
    await expect(last(staff)).to_contain_text("Check before sending")
    await desktop.screenshot(path=artifacts / "desktop-0-staff-raises.png")
    await press(staff, "Check before sending", "Send to a coordinator")
    await expect(last(staff)).to_contain_text("with a coordinator to vet")

    # The coordinator's card arrives in the second pane without a reload; they approve.
    card = second.locator("li.msg", has_text="VETTING NEEDED")
    await expect(card).to_have_count(1)
    card_id = await card.get_attribute("data-id")
    await card.get_by_role("button", name="Approve and send").click()
    await expect(second.locator(".toast")).to_contain_text("approved")
    # The card is edited in place into a note of who acted, live.
    settled = second.locator(f'li.msg[data-id="{card_id}"]')
    await expect(settled.locator(".edited")).to_have_text("edited")
    await expect(settled.get_by_role("button", name="Approve and send")).to_have_count(0)
    await expect(staff.locator("li.msg", has_text="approved and is going to")).to_have_count(1)

    # The police officer has it: protected, with its photo and the last-seen point.
    await second.get_by_label("Persona").select_option(str(cast.pat.user_id))
    alert = second.locator("li.msg", has_text="MISSING YOUTH")
    await expect(alert).to_have_count(1)
    await expect(alert).to_have_class("msg from-bot protected")
    await expect(alert.locator(".lock")).to_have_text("Protected")
    await expect(alert).to_contain_text(HOSTILE_NAME)
    await expect(alert).to_contain_text("46.4900, -80.9800")
    photo = alert.locator("img.photo")
    assert await image_loaded(photo)
    assert await alert.locator("img").count() == 1  # the name stayed text
    assert await desktop.evaluate("window.__pwned") is None
    await expect(alert.get_by_role("button", name="Seen")).to_be_visible()
    # Right after the card, its last-seen point as a pin, with the distance to Pat's area.
    pin = second.locator("li.msg.from-bot.protected .pin", has_text="46.49000, -80.98000")
    await expect(pin).to_have_count(1)
    await expect(pin).to_contain_text("km from the centre of this persona's area (inside")
    await desktop.screenshot(path=artifacts / "desktop-1-police-alert.png")

    # Phone width: one chat at a time, with a switcher; the staff member resolves it.
    phone_context = await browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    phone = await phone_context.new_page()
    watch(phone, errors)
    await phone.goto(f"{world.emu.chat_url}#a={cast.sam.user_id}&b={cast.pat.user_id}")
    on_phone, police_on_phone = pane(phone, "a"), pane(phone, "b")
    await expect(on_phone).to_be_visible()
    await expect(police_on_phone).to_be_hidden()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 375
    await expect(on_phone.locator("li.msg", has_text="approved and is going to")).to_have_count(1)
    await say(on_phone, "/found")
    await press(on_phone, "Where is the youth now", "Returned to the residence")
    await press(on_phone, "Yes, close it", "Yes, close it and pull details back")
    await expect(on_phone.locator("li.msg", has_text="is closed")).to_have_count(1)
    await phone.screenshot(path=artifacts / "phone-1-staff-resolves.png")

    # The police copy is withdrawn: live on the desktop page, and on the phone's other chat.
    await expect(second.locator("li.msg", has_text="MISSING YOUTH")).to_have_count(0)
    await expect(second.locator("li.msg:not(.deleted) .pin")).to_have_count(0)
    await expect(second.locator("li.msg.deleted")).not_to_have_count(0)
    await expect(second.locator("li.msg", has_text="Resolved:")).to_have_count(1)
    await phone.get_by_role("button", name="Pat Police").click()
    await expect(police_on_phone).to_be_visible()
    await expect(on_phone).to_be_hidden()
    await expect(police_on_phone.locator("li.msg.deleted")).not_to_have_count(0)
    await expect(police_on_phone.locator("li.msg", has_text="MISSING YOUTH")).to_have_count(0)
    await phone.screenshot(path=artifacts / "phone-2-police-withdrawn.png")
    await desktop.screenshot(path=artifacts / "desktop-2-withdrawn.png")
    print(f"web chat screenshots in {artifacts}")

    await phone_context.close()
    await desktop.close()
    assert errors == []
