"""T06: invite codes cannot be reused, outlived, guessed or hammered, and vetting comes first.

* entropy: every code is ``secrets.token_urlsafe`` of >= 16 bytes (>= 128 bits); 1,000 codes
  made by the real service are distinct, and only their SHA-256 is stored;
* single use: a second account opening a used link gets the generic answer and is not
  registered; 20 accounts racing for one code: exactly one wins;
* expiry: 23 h 59 min after creation a code works, 24 h 01 min after it is refused (and at
  exactly 24 h too) — fake clock;
* brute force: 100,000 random code-shaped guesses, 0 successes (a share through the real
  ``registration.start`` path, the rest against the same SQL predicate ``consume`` uses);
* lockout: 10 failures within the hour lock the account out for an hour, even with a valid
  code, which is not consumed meanwhile; 9 do not;
* vetting: a registered but unapproved member sees nothing but the generic answer.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.domain.errors import InviteRefused, LockedOut
from bot.domain.membership import OrgKind, Role
from bot.services import invites, members, registration
from bot.services.registration import PromptKind
from storage.models import InviteRow
from tests.e2e.conftest import World
from tests.security.conftest import CANARY_ORG, member_status

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
GUESSES = 100_000
SERVICE_GUESSES = 1_000


async def _org(world: World) -> int:
    org = await members.create_org(
        world.hw.ctx, actor_telegram_id=None, kind=OrgKind.INTERVENTION_TEAM, name=CANARY_ORG
    )
    return org.id


async def _invite(world: World, org_id: int, role: Role = Role.RESPONDER) -> str:
    created = await invites.create(world.hw.ctx, actor_telegram_id=None, role=role, org_id=org_id)
    return created.code


def _decoded_bytes(code: str) -> bytes:
    return base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))


async def test_codes_carry_at_least_128_bits_and_only_their_hash_is_stored(world: World) -> None:
    org_id = await _org(world)
    ctx = world.hw.ctx
    async with ctx.uow() as uow:
        created = [
            await invites.create_in(
                uow, ctx, actor_telegram_id=None, role=Role.RESPONDER, org_id=org_id
            )
            for _ in range(1_000)
        ]
        await uow.commit()
    codes = [c.code for c in created]
    assert len(set(codes)) == 1_000
    for code in codes:
        assert set(code) <= set(URLSAFE), code
        raw = _decoded_bytes(code)
        assert len(raw) >= 16, (code, len(raw))  # >= 128 bits from secrets.token_urlsafe
        assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == code
    assert ctx.membership.invite_code_bytes >= 16
    # Bytes look uniform: every byte value appears across 1,000 x 24 random bytes.
    assert len(set(b"".join(_decoded_bytes(c) for c in codes))) == 256

    async with world.hw.db.sessions() as session:
        stored = set((await session.execute(select(InviteRow.code_hash))).scalars())
    assert not stored & set(codes), "plaintext codes stored"
    assert {invites.hash_code(c) for c in codes} <= stored


async def test_a_code_works_once(world: World) -> None:
    org_id = await _org(world)
    admin = await world.admin()
    code = await world.invite(admin, "Responder", CANARY_ORG)
    first = world.person("First Person")
    await world.register(first, code)
    assert await member_status(world, first.user_id) == "pending"

    second = world.person("Second Person")
    assert [m.text for m in await world.say(second, f"/start {code}")] == [texts.GENERIC]
    assert await member_status(world, second.user_id) is None
    with pytest.raises((InviteRefused, LockedOut)):
        await registration.start(world.hw.ctx, telegram_id=second.user_id, code=code)

    # 20 accounts open one fresh link at the same moment: exactly one gets it.
    contested = await _invite(world, org_id)
    racers = [world.person(f"Racer {i}") for i in range(20)]
    results = await asyncio.gather(
        *(registration.start(world.hw.ctx, telegram_id=r.user_id, code=contested) for r in racers),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, InviteRefused) for r in results if isinstance(r, BaseException))
    statuses = [await member_status(world, r.user_id) for r in racers]
    assert statuses.count("registering") == 1
    assert statuses.count(None) == 19


@pytest.mark.parametrize(
    ("age", "works"),
    [
        (timedelta(hours=23, minutes=59), True),
        (timedelta(hours=24) - timedelta(seconds=1), True),
        (timedelta(hours=24), False),
        (timedelta(hours=24, minutes=1), False),
    ],
)
async def test_a_code_expires_after_24_hours(world: World, age: timedelta, works: bool) -> None:
    org_id = await _org(world)
    code = await _invite(world, org_id)
    world.clock.advance(age)
    person = world.person("Late Person")
    replies = await world.say(person, f"/start {code}")
    if works:
        assert "What name" in (replies[0].text or ""), replies[0].text
        assert await member_status(world, person.user_id) == "registering"
    else:
        assert [m.text for m in replies] == [texts.GENERIC]
        assert await member_status(world, person.user_id) is None


async def test_100000_random_guesses_never_succeed(world: World) -> None:
    org_id = await _org(world)
    ctx = world.hw.ctx
    # A realistic target: 200 live codes at once.
    async with ctx.uow() as uow:
        live = [
            (
                await invites.create_in(
                    uow, ctx, actor_telegram_id=None, role=Role.RESPONDER, org_id=org_id
                )
            ).code
            for _ in range(200)
        ]
        await uow.commit()
    rng = secrets.SystemRandom()

    def guess() -> str:
        return "".join(rng.choice(URLSAFE) for _ in range(32))  # exactly a real code's shape

    # 1) Through the real service path, 9 guesses per account (below the lockout).
    started = time.perf_counter()
    refused = 0
    for i in range(SERVICE_GUESSES):
        try:
            await registration.start(ctx, telegram_id=5_000_000 + i // 9, code=guess())
        except InviteRefused:
            refused += 1
    service_seconds = time.perf_counter() - started
    assert refused == SERVICE_GUESSES

    # 2) The rest against the predicate ``consume`` runs (hash equality, unused, unexpired).
    now = ctx.clock.now()
    rest = GUESSES - SERVICE_GUESSES
    guesses = [guess() for _ in range(rest)]
    assert all(invites.looks_like_code(g) for g in guesses[:1000])  # they reach the lookup
    started = time.perf_counter()
    hits = 0
    async with world.hw.db.sessions() as session:
        for offset in range(0, rest, 2_000):
            hashes = [invites.hash_code(g) for g in guesses[offset : offset + 2_000]]
            hits += (
                await session.execute(
                    select(func.count())
                    .select_from(InviteRow)
                    .where(
                        InviteRow.code_hash.in_(hashes),
                        InviteRow.used_at.is_(None),
                        InviteRow.expires_at > now,
                    )
                )
            ).scalar_one()
        # Positive control: the same query finds the real codes.
        control = (
            await session.execute(
                select(func.count())
                .select_from(InviteRow)
                .where(
                    InviteRow.code_hash.in_([invites.hash_code(c) for c in live]),
                    InviteRow.used_at.is_(None),
                    InviteRow.expires_at > now,
                )
            )
        ).scalar_one()
    lookup_seconds = time.perf_counter() - started
    assert hits == 0
    assert control == len(live)
    # And none of the live codes was consumed by the guessing.
    async with world.hw.db.sessions() as session:
        used = (
            await session.execute(
                select(func.count()).select_from(InviteRow).where(InviteRow.used_at.is_not(None))
            )
        ).scalar_one()
    assert used == 0
    print(
        f"\nT06 guesses: {SERVICE_GUESSES} via registration.start in {service_seconds:.1f} s "
        f"({SERVICE_GUESSES / service_seconds:.0f}/s); {rest} via the lookup predicate in "
        f"{lookup_seconds:.1f} s; 0 successes"
    )


async def test_ten_failures_lock_the_account_for_an_hour(world: World) -> None:
    org_id = await _org(world)
    ctx = world.hw.ctx
    valid = await _invite(world, org_id)

    # Nine failures: not locked, the valid code still works for that account.
    nine = world.person("Nine Tries")
    for _ in range(9):
        with pytest.raises(InviteRefused):
            await registration.start(ctx, telegram_id=nine.user_id, code="A" * 32)
    prompt = await registration.start(ctx, telegram_id=nine.user_id, code=valid)
    assert prompt.kind is PromptKind.ASK_NAME

    # Ten failures in a burst: even a valid code is refused for the hour and not consumed.
    valid = await _invite(world, org_id)
    ten = world.person("Ten Tries")
    for _ in range(10):
        with pytest.raises(InviteRefused):
            await registration.start(ctx, telegram_id=ten.user_id, code=secrets.token_urlsafe(24))
    with pytest.raises(LockedOut):
        await registration.start(ctx, telegram_id=ten.user_id, code=valid)
    assert [m.text for m in await world.say(ten, f"/start {valid}")] == [texts.GENERIC]
    world.clock.advance(timedelta(minutes=59))
    with pytest.raises(LockedOut):
        await registration.start(ctx, telegram_id=ten.user_id, code=valid)
    assert await member_status(world, ten.user_id) is None
    world.clock.advance(timedelta(minutes=1, seconds=1))
    prompt = await registration.start(ctx, telegram_id=ten.user_id, code=valid)
    assert prompt.kind is PromptKind.ASK_NAME  # the code survived the lockout unused


async def test_lockout_lasts_an_hour_from_the_tenth_failure(world: World) -> None:
    """Failures spread over 45 minutes: the lockout runs a full hour from the 10th."""
    org_id = await _org(world)
    ctx = world.hw.ctx
    valid = await _invite(world, org_id, Role.COORDINATOR)
    slow = world.person("Slow Guesser")
    for i in range(10):
        if i:
            world.clock.advance(timedelta(minutes=5))
        with pytest.raises(InviteRefused):
            await registration.start(ctx, telegram_id=slow.user_id, code="B" * 32)
    # 10th failure at +45 min. At +61 min (16 min after it) the 1st failure has left the
    # sliding one-hour window, but the account has been locked for only 16 minutes.
    tenth = world.clock.now()
    for after in (timedelta(minutes=1), timedelta(minutes=16), timedelta(minutes=59)):
        world.clock.set(tenth + after)
        try:
            await registration.start(ctx, telegram_id=slow.user_id, code=valid)
        except LockedOut:
            continue
        pytest.fail(f"not locked out any more {after} after the 10th failure (valid code used)")
    world.clock.set(tenth + timedelta(minutes=61))
    prompt = await registration.start(ctx, telegram_id=slow.user_id, code=valid)
    assert prompt.kind is PromptKind.ASK_NAME


async def test_nothing_is_visible_before_a_vetter_approves(world: World) -> None:
    await _org(world)
    admin = await world.admin("CANARY_NAME_7f3a Admin")
    person = world.person("Penny Pending")
    code = await world.invite(admin, "Responder", CANARY_ORG)
    done = await world.register(person, code)
    assert any("with a coordinator now" in (m.text or "") for m in done)
    assert await member_status(world, person.user_id) == "pending"
    for command in (
        "/whoami",
        "/help",
        "/members",
        "/invite",
        "/orgs",
        f"/start {code}",
        "/suspend 1",
        "hello",
    ):
        world.clock.advance(61)
        replies = await world.say(person, command)
        assert [m.text for m in replies] == [texts.GENERIC], command
    # Nothing the bot ever sent them names the admin (the vetter) or other members.
    assert not any("CANARY_NAME" in (m.text or "") for m in world.emu.bot_messages(person.user_id))
    assert world.emu.commands_for(person.user_id) == []

    await world.press(admin, world.vet_card_for(admin, "Penny Pending"), "Approve")
    world.clock.advance(61)
    [who] = await world.say(person, "/whoami")
    assert "Penny Pending" in (who.text or "")
