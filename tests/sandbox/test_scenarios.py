"""Scenario scripts: the examples pass against the current bot, a wrong expectation
fails at its step with what was expected and what came, and bad files get one clear
message naming the step, never a traceback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.sandbox import Sandbox
from bot.scenario import (
    ScenarioError,
    ScenarioRunner,
    StepResult,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from tests.sandbox.conftest import SCENARIOS


async def run(box: Sandbox, clock: FakeClock | None, text: str) -> list[StepResult]:
    runner = ScenarioRunner(box, clock=clock)
    await runner.settle()
    return await runner.run(parse_scenario(text))


async def test_missing_and_found_passes_and_the_alert_carries_the_profile_photo(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    scenario = load_scenario(str(SCENARIOS / "missing_and_found.toml"))
    scenario.check_world(empty=False)
    runner = ScenarioRunner(sandbox, clock=clock)
    await runner.settle()
    results = await runner.run(scenario)
    assert [r.detail for r in results if not r.ok] == []
    assert len(results) == len(scenario.steps)
    # The police card was sent with the profile's photo, by its seeded file_id.
    photo_id = sandbox.world.youth["Jay"].photo_file_id
    police = sandbox.world.person("police").user_id
    sent = [c for c in sandbox.emulator.calls_to("sendPhoto", chat_id=police) if c.status == 200]
    assert sent
    assert all(c.params.get("photo") == photo_id for c in sent)


async def test_escalation_passes_on_the_fake_clock(sandbox: Sandbox, clock: FakeClock) -> None:
    scenario = load_scenario(str(SCENARIOS / "escalation.toml"))
    started = clock.now()
    runner = ScenarioRunner(sandbox, clock=clock)
    await runner.settle()
    results = await runner.run(scenario)
    assert [r.detail for r in results if not r.ok] == []
    assert len(results) == len(scenario.steps)
    assert clock.now() - started == timedelta(hours=1, minutes=10)


async def test_a_wrong_expectation_fails_at_its_step_and_stops(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    results = await run(
        sandbox,
        clock,
        """
        [[step]]
        as = "staff1"
        say = "/missing"
        expect = "Who is missing"

        [[step]]
        as = "staff1"
        press = "Jay"
        expect_for = { police = "MISSING YOUTH" }

        [[step]]
        as = "staff1"
        press = "Just now"
        """,
    )
    assert [r.ok for r in results] == [True, False]  # the third step is not run
    failed = results[1]
    assert failed.step.number == 2
    assert "expected police to get “MISSING YOUTH”" in failed.detail
    assert "nothing new" in failed.detail
    line = failed.line()
    assert line.startswith("✗  2. staff1 presses “Jay”")
    # What the acting persona did get is on record for --verbose.
    assert "When were they last seen" in failed.received["staff1"][0]

    [missing_button] = await run(
        sandbox, clock, '[[step]]\nas = "staff1"\npress = "Approve and send"\n'
    )
    assert not missing_button.ok
    assert "no button “Approve and send”" in missing_button.detail
    assert "“Just now”" in missing_button.detail  # the buttons they do have


async def test_nothing_new_and_must_not_see_are_checked(sandbox: Sandbox, clock: FakeClock) -> None:
    [leak] = await run(
        sandbox,
        clock,
        '[[step]]\nas = "stranger"\nsay = "/start"\nexpect_not_for = { stranger = "private" }\n',
    )
    assert not leak.ok
    assert "stranger must not get “private”" in leak.detail
    [noisy] = await run(
        sandbox,
        clock,
        '[[step]]\nas = "staff1"\nsay = "/help"\nexpect_none_for = ["staff1"]\n',
    )
    assert not noisy.ok
    assert "expected nothing new for staff1" in noisy.detail


async def test_advance_needs_a_fake_clock(empty_sandbox: Sandbox) -> None:
    [result] = await run(empty_sandbox, None, '[[step]]\nadvance = "5m"\n')
    assert not result.ok
    assert "fake clock" in result.detail


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[step]]\nas = "staff1"\nsay = "/x"\nexpcet = "y"\n', "step 1: unknown key 'expcet'"),
        ('[[step]]\nadvance = "5 minutes"\n', "step 1: bad duration '5 minutes'"),
        ('[[step]]\nadvance = "-5m"\n', "step 1: bad duration"),
        ('[[step]]\nas = "staff1"\nsay = "a"\npress = "b"\n', "step 1: needs exactly one of"),
        ('[[step]]\nsay = "hello"\n', 'step 1: say needs as = "<persona>"'),
        ('[[step]]\nas = "police"\nadvance = "5m"\n', "step 1: advance is for the clock"),
        (
            '[[step]]\nas = "x"\nsay = "a"\n[[step]]\nas = "x"\nlocation = "Moon"\n',
            "step 2: unknown place 'Moon'",
        ),
        ('[[step]]\nas = "x"\nlocation = [91, 0]\n', "step 1: location must be"),
        ('[[step]]\nas = "x"\nphoto = "Alex"\n', "step 1: photo must name a seeded youth"),
        (
            '[[step]]\nas = "x"\nsay = "a"\nexpect_for = "police"\n',
            "step 1: expect_for must be a table",
        ),
        ('[[step]]\nadvance = "1m"\nexpect = "x"\n', "step 1: expect checks the acting persona"),
        ('[[step]]\nas = "x"\nsay = "a"\nexpect_answer = "ok"\n', "step 1: expect_answer checks"),
        ('title = "t"\n', "no steps"),
        ("steps = 3\n", "unknown key 'steps'"),
        ("[[step]\n", "not valid TOML"),
        ('empty = "yes"\n[[step]]\nadvance = "1m"\n', "empty must be true or false"),
        ('start = 2026-03-06T10:00:00\n[[step]]\nadvance = "1m"\n', "start must be a date-time"),
    ],
)
def test_bad_files_get_one_clear_message(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="bad.toml")
    assert message in str(caught.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.toml: cannot read it"):
        load_scenario(str(tmp_path / "nope.toml"))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[[step]]")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(str(binary))


def test_unknown_personas_are_named_with_the_known_ones() -> None:
    scenario = parse_scenario('[[step]]\nas = "staff3"\nsay = "/help"\n')
    with pytest.raises(ScenarioError, match=r"step 1: unknown persona 'staff3'.*staff1, staff2"):
        scenario.check_world(empty=False)
    seeded_only = parse_scenario('[[step]]\nadvance = "1m"\nexpect_for = { staff1 = "x" }\n')
    seeded_only.check_world(empty=False)
    with pytest.raises(ScenarioError, match=r"the empty world has: admin"):
        seeded_only.check_world(empty=True)


def test_durations_and_places() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1h30m") == timedelta(hours=1, minutes=30)
    assert parse_duration("2d") == timedelta(days=2)
    scenario = parse_scenario(
        '[[step]]\nas = "police"\nlocation = "bus terminal"\n'
        '[[step]]\nas = "police"\nlocation = [46.49, -80.99]\n'
    )
    assert [s.value for s in scenario.steps] == ["Bus terminal (downtown Sudbury)", (46.49, -80.99)]
