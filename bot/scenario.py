"""Scenario scripts: replay an exercise against the sandbox without a browser.

A scenario is a TOML file: an optional ``title``, ``empty`` (start with only the
admin), ``start`` (the fake clock's start, a TOML date-time with an offset) and a list
of ``[[step]]`` tables. Each step does exactly one thing:

- ``as = "staff1"`` with ``say = "/missing"`` (text or a command), ``press = "Jay"``
  (a button, by its label, on the newest message that has it; a unique label prefix
  will do), ``location = "Bus terminal (downtown Sudbury)"`` (a named place) or
  ``location = [46.49, -80.99]``, or ``photo = "Jay"`` (that youth's generated photo);
- or ``advance = "6m"`` (``90s``, ``1h30m``, ``2d``): move the fake clock, fire the
  timers that fell due.

and may then check what happened, once the bot has handled the update and sent
everything it queued:

- ``expect = "Who is missing"`` (or a list): a message the bot sent (or edited) to the
  acting persona during this step contains each text (a photo reads "[photo]" and
  its caption);
- ``expect_for = { police = "MISSING YOUTH" }`` (text or list per persona);
- ``expect_not_for = { outreach_sudbury = "Jordan" }``: nothing they got in this step
  contains that text (what a role must never see);
- ``expect_none_for = ["stranger", "outreach_espanola"]``: nothing new for them;
- ``expect_deleted_for = ["police"]`` or ``{ police = "MISSING" }``: a message of
  theirs (containing that text) was deleted during this step;
- ``expect_answer = "approved"``: the pop-up answer to a ``press``.

``note`` is free text, printed with the step. Persona keys, place names and youth
come from the seeded world (:mod:`bot.sandbox_world`). A bad file raises
:class:`ScenarioError` with a message naming the step; a failed check ends the run
with a message naming the step, the persona, what was expected and what they got.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import Clock, FakeClock
from bot.emulator import EmuMessage
from bot.sandbox import Sandbox, start_sandbox
from bot.sandbox_avatar import avatar_png
from bot.sandbox_world import EMPTY_PERSONA_KEYS, PERSONA_KEYS, PLACES, YOUTH_NAMES
from bot.settings import Settings

ACTIONS = ("say", "press", "location", "photo", "advance")
CHECKS = (
    "expect",
    "expect_for",
    "expect_not_for",
    "expect_none_for",
    "expect_deleted_for",
    "expect_answer",
)
STEP_KEYS = frozenset({"as", "note", *ACTIONS, *CHECKS})
TOP_KEYS = frozenset({"title", "description", "empty", "start", "step"})
DEFAULT_START = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # a Friday, 10:00 in Sudbury
STEP_TIMEOUT = 15.0
_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


class ScenarioError(ValueError):
    """The scenario file is unusable; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    action: str
    value: Any  # str, (latitude, longitude), or timedelta for "advance"
    persona: str | None = None
    expect: tuple[str, ...] = ()
    expect_for: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expect_not_for: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expect_none_for: tuple[str, ...] = ()
    expect_deleted_for: Mapping[str, str | None] = field(default_factory=dict)
    expect_answer: str | None = None
    note: str | None = None

    def describe(self) -> str:
        if self.action == "advance":
            text = f"time passes: {_format_duration(self.value)}"
        else:
            shown = (
                f"{self.value[0]:.4f}, {self.value[1]:.4f}"
                if isinstance(self.value, tuple)
                else str(self.value)
            )
            verb = {
                "say": "says",
                "press": "presses",
                "location": "shares the location",
                "photo": "sends a photo of",
            }[self.action]
            text = f"{self.persona} {verb} “{shown}”"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True, slots=True)
class Scenario:
    title: str
    steps: tuple[Step, ...]
    empty: bool = False
    start: datetime | None = None

    def check_world(self, *, empty: bool) -> None:
        """Refuse persona keys the world to run against does not have."""
        known = EMPTY_PERSONA_KEYS if empty else PERSONA_KEYS
        for step in self.steps:
            names = [step.persona] if step.persona else []
            names += [
                *step.expect_for,
                *step.expect_not_for,
                *step.expect_none_for,
                *step.expect_deleted_for,
            ]
            for name in names:
                if name not in known:
                    where = "the empty world" if empty else "the seeded world"
                    raise ScenarioError(
                        f"step {step.number}: unknown persona {name!r}; {where} has: "
                        + ", ".join(known)
                    )


# Parsing -----------------------------------------------------------------------------------


def parse_duration(text: object) -> timedelta:
    if isinstance(text, str):
        compact = text.replace(" ", "").lower()
        parts = _DURATION.findall(compact)
        if parts and "".join(n + u for n, u in parts) == compact:
            seconds = sum(int(n) * _UNITS[u] for n, u in parts)
            if seconds > 0:
                return timedelta(seconds=seconds)
    raise ValueError(f"bad duration {text!r} (use e.g. 90s, 6m, 1h30m, 2d)")


def _format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    out = ""
    for unit, size in _UNITS.items():
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def _texts(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ValueError(f"{what} must be a text or a list of texts")


def _persona_list(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{what} must be a list of persona keys")


def _location(value: object) -> str | tuple[float, float]:
    if isinstance(value, str):
        matches = [name for name in PLACES if name.lower() == value.lower()]
        matches = matches or [name for name in PLACES if name.lower().startswith(value.lower())]
        if len(matches) == 1:
            return matches[0]
        raise ValueError(
            f"unknown place {value!r}; named places: " + "; ".join(PLACES)
            if not matches
            else f"place {value!r} is ambiguous: " + "; ".join(matches)
        )
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        latitude, longitude = float(value[0]), float(value[1])
        if -90 <= latitude <= 90 and -180 <= longitude <= 180:
            return (latitude, longitude)
    raise ValueError("location must be a named place or [latitude, longitude]")


def _step(number: int, raw: object) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError(f"step {number}: must be a table ([[step]])")
    unknown = sorted(set(raw) - STEP_KEYS)
    if unknown:
        raise ScenarioError(
            f"step {number}: unknown key {unknown[0]!r}; a step may have: "
            + ", ".join(sorted(STEP_KEYS))
        )
    actions = [a for a in ACTIONS if a in raw]
    if len(actions) != 1:
        raise ScenarioError(
            f"step {number}: needs exactly one of {', '.join(ACTIONS)}"
            + (f" (has {', '.join(actions)})" if actions else "")
        )
    [action] = actions
    persona = raw.get("as")
    try:
        if persona is not None and not (isinstance(persona, str) and persona):
            raise ValueError("as must be a persona key")
        if action == "advance":
            if persona is not None:
                raise ValueError("advance is for the clock, not a persona (drop as)")
            value: Any = parse_duration(raw["advance"])
        else:
            if persona is None:
                raise ValueError(f'{action} needs as = "<persona>"')
            value = raw[action]
            if action == "location":
                value = _location(value)
            elif action == "photo":
                if value not in YOUTH_NAMES:
                    raise ValueError(f"photo must name a seeded youth ({', '.join(YOUTH_NAMES)})")
            elif not (isinstance(value, str) and value):
                raise ValueError(f"{action} must be a non-empty text")
        if "expect" in raw and persona is None:
            raise ValueError("expect checks the acting persona; with advance use expect_for")
        if "expect_answer" in raw and action != "press":
            raise ValueError("expect_answer checks a button press's answer")
        tables = {}
        for key in ("expect_for", "expect_not_for"):
            table = raw.get(key, {})
            if not isinstance(table, dict):
                raise ValueError(f'{key} must be a table: {{ police = "..." }}')
            tables[key] = {k: _texts(v, f"{key}.{k}") for k, v in table.items()}
        deleted_raw = raw.get("expect_deleted_for", [])
        deleted: dict[str, str | None]
        if isinstance(deleted_raw, dict):
            deleted = {k: _texts(v, f"expect_deleted_for.{k}")[0] for k, v in deleted_raw.items()}
        else:
            deleted = dict.fromkeys(_persona_list(deleted_raw, "expect_deleted_for"))
        answer = raw.get("expect_answer")
        if answer is not None and not isinstance(answer, str):
            raise ValueError("expect_answer must be a text")
        note = raw.get("note")
        if note is not None and not isinstance(note, str):
            raise ValueError("note must be a text")
        return Step(
            number=number,
            action=action,
            value=value,
            persona=persona,
            expect=_texts(raw["expect"], "expect") if "expect" in raw else (),
            expect_for=tables["expect_for"],
            expect_not_for=tables["expect_not_for"],
            expect_none_for=_persona_list(raw.get("expect_none_for", []), "expect_none_for"),
            expect_deleted_for=deleted,
            expect_answer=answer,
            note=note,
        )
    except ValueError as exc:
        raise ScenarioError(f"step {number}: {exc}") from None


def parse_scenario(text: str, *, source: str = "scenario") -> Scenario:
    """Parse and check a scenario's TOML text (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ScenarioError(
            f"{source}: unknown key {unknown[0]!r} (expected: {', '.join(sorted(TOP_KEYS))}; "
            "steps are [[step]] tables)"
        )
    steps = data.get("step")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{source}: no steps; add [[step]] tables")
    empty = data.get("empty", False)
    if not isinstance(empty, bool):
        raise ScenarioError(f"{source}: empty must be true or false")
    start = data.get("start")
    if start is not None and not (isinstance(start, datetime) and start.tzinfo is not None):
        raise ScenarioError(
            f"{source}: start must be a date-time with an offset, e.g. 2026-03-06T10:00:00-05:00"
        )
    title = data.get("title", source)
    if not isinstance(title, str):
        raise ScenarioError(f"{source}: title must be a text")
    return Scenario(
        title=title,
        steps=tuple(_step(n, raw) for n, raw in enumerate(steps, start=1)),
        empty=empty,
        start=start.astimezone(UTC) if start is not None else None,
    )


# Running -----------------------------------------------------------------------------------


class StepFailed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    ok: bool
    detail: str = ""
    received: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # persona -> texts

    def line(self, *, verbose: bool = False) -> str:
        mark = "✓" if self.ok else "✗"
        lines = [f"{mark} {self.step.number:>2}. {self.step.describe()}"]
        if self.detail:
            lines.append(f"      {self.detail}")
        if verbose:
            for key, texts in self.received.items():
                lines += [f"      → {key}: {_short(text, 300)}" for text in texts]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Seen:
    text: str
    photo: str | None
    deleted: bool


def _visible(message: EmuMessage) -> str:
    """What the person sees: the text, or "[photo]" and its caption."""
    if message.photo_file_id is not None:
        return f"[photo] {message.caption or ''}".rstrip()
    return message.text or ""


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ScenarioRunner:
    """Drives a running sandbox step by step; waits on events, never on sleeps."""

    def __init__(
        self, sandbox: Sandbox, *, clock: Clock | None = None, timeout: float = STEP_TIMEOUT
    ) -> None:
        self.box = sandbox
        self.clock = clock
        self.timeout = timeout
        state = sandbox.emulator.state
        self._first_update = state.next_update_id
        self._base_processed = sandbox.homeward.processor.processed

    # Waiting -------------------------------------------------------------------------------
    async def settle(self) -> None:
        """Until every update produced so far is handled and the outbox has drained
        (sending can produce updates, so repeat until quiet)."""
        emu, hw = self.box.emulator, self.box.homeward
        while True:
            produced = emu.state.next_update_id - self._first_update
            await hw.processor.wait_processed(self._base_processed + produced)
            hw.sender.wake()
            await hw.sender.wait_idle()
            if emu.state.next_update_id - self._first_update == produced:
                return

    # Observing -----------------------------------------------------------------------------
    def _snapshot(self) -> dict[int, dict[int, _Seen]]:
        emu = self.box.emulator
        return {
            person.user_id: {
                m.message_id: _Seen(_visible(m), m.photo_file_id, m.deleted)
                for m in emu.messages(person.user_id)
                if m.from_bot
            }
            for person in self.box.world.people.values()
        }

    def _received(self, before: dict[int, dict[int, _Seen]], user_id: int) -> list[str]:
        """Texts of bot messages that are new or changed in this chat since ``before``."""
        seen = before.get(user_id, {})
        out = []
        for m in self.box.emulator.messages(user_id):
            if not m.from_bot or m.deleted:
                continue
            old = seen.get(m.message_id)
            if old is None or (old.text, old.photo) != (_visible(m), m.photo_file_id):
                out.append(_visible(m))
        return out

    def _deleted(self, before: dict[int, dict[int, _Seen]], user_id: int) -> list[str]:
        seen = before.get(user_id, {})
        return [
            seen[m.message_id].text
            for m in self.box.emulator.messages(user_id)
            if m.from_bot and m.deleted and m.message_id in seen and not seen[m.message_id].deleted
        ]

    def _last_messages(self, user_id: int, count: int = 3) -> str:
        recent = self.box.emulator.bot_messages(user_id)[-count:]
        if not recent:
            return "they have no messages from the bot"
        return "their last messages: " + " | ".join(f"“{_short(_visible(m))}”" for m in recent)

    # Acting --------------------------------------------------------------------------------
    def _button(self, user_id: int, label: str) -> tuple[EmuMessage, str]:
        messages = list(reversed(self.box.emulator.bot_messages(user_id)))

        def buttons(m: EmuMessage) -> list[tuple[str, str]]:
            rows = (m.reply_markup or {}).get("inline_keyboard", [])
            return [
                (str(b.get("text")), str(b["callback_data"]))
                for row in rows
                for b in row
                if "callback_data" in b
            ]

        for m in messages:
            for text, data in buttons(m):
                if text == label:
                    return m, data
        wanted = label.lower()
        for m in messages:
            found = [(t, d) for t, d in buttons(m) if t.lower().startswith(wanted)]
            if len(found) == 1:
                return m, found[0][1]
            if len(found) > 1:
                raise StepFailed(
                    f"button “{label}” is ambiguous on their newest message with it: "
                    + ", ".join(f"“{t}”" for t, _ in found)
                )
        latest = next((m for m in messages if buttons(m)), None)
        offered = ", ".join(f"“{t}”" for t, _ in buttons(latest)) if latest else "no buttons at all"
        raise StepFailed(f"no button “{label}” in their chat; their newest buttons: {offered}")

    async def _act(self, step: Step) -> str | None:
        """Perform the step's action; returns the callback query id for a press."""
        emu = self.box.emulator
        if step.action == "advance":
            if not isinstance(self.clock, FakeClock):
                raise StepFailed("advance needs a fake clock (use `homeward scenario`)")
            self.clock.advance(step.value)
            await self.settle()
            await self.box.homeward.scheduler.tick()
            return None
        if step.persona is None:
            raise StepFailed(f"{step.action} needs a persona (as = ...)")
        user_id = self.box.world.person(step.persona).user_id
        if step.action == "say":
            emu.send_text(user_id, step.value)
        elif step.action == "press":
            message, data = self._button(user_id, step.value)
            update = emu.press_button(user_id, message.message_id, data)
            return str(update["callback_query"]["id"])
        elif step.action == "location":
            point = step.value if isinstance(step.value, tuple) else PLACES[step.value]
            emu.send_location(user_id, *point)
        elif step.action == "photo":
            youth = self.box.world.youth.get(step.value)
            emu.send_photo(user_id, youth.photo if youth else avatar_png(len(YOUTH_NAMES)))
        return None

    def _check(self, step: Step, before: dict[int, dict[int, _Seen]], query: str | None) -> None:
        world = self.box.world
        wanted = dict(step.expect_for)
        if step.expect and step.persona is not None:
            wanted[step.persona] = (*wanted.get(step.persona, ()), *step.expect)
        for key, texts in wanted.items():
            user_id = world.person(key).user_id
            got = self._received(before, user_id)
            for text in texts:
                if not any(text in g for g in got):
                    if got:
                        shown = " | ".join(f"“{_short(g)}”" for g in got)
                        detail = f"they got {len(got)} message(s): {shown}"
                    else:
                        detail = f"they got nothing new; {self._last_messages(user_id)}"
                    raise StepFailed(f"expected {key} to get “{text}”, but {detail}")
        for key, texts in step.expect_not_for.items():
            got = self._received(before, world.person(key).user_id)
            for text in texts:
                leaked = next((g for g in got if text in g), None)
                if leaked is not None:
                    raise StepFailed(f"{key} must not get “{text}”, but got: “{_short(leaked)}”")
        for key in step.expect_none_for:
            got = self._received(before, world.person(key).user_id)
            if got:
                raise StepFailed(
                    f"expected nothing new for {key}, but they got: "
                    + " | ".join(f"“{_short(g)}”" for g in got)
                )
        for key, part in step.expect_deleted_for.items():
            gone = self._deleted(before, world.person(key).user_id)
            if not any(part is None or part in g for g in gone):
                what = f"a message with “{part}”" if part else "a message"
                also = (
                    "; deleted: " + " | ".join(f"“{_short(g)}”" for g in gone)
                    if gone
                    else "; nothing of theirs was deleted"
                )
                raise StepFailed(f"expected {what} of {key} to be deleted{also}")
        if step.expect_answer is not None and query is not None:
            record = self.box.emulator.callback_answers.get(query, {})
            answer = (record.get("answer") or {}).get("text") or ""
            if step.expect_answer not in answer:
                shown = f"“{answer}”" if answer else "no text"
                raise StepFailed(
                    f"expected the button's answer “{step.expect_answer}”, got {shown}"
                )

    async def run_step(self, step: Step) -> StepResult:
        before = self._snapshot()
        ok, detail = True, ""
        try:
            async with asyncio.timeout(self.timeout):
                query = await self._act(step)
                await self.settle()
            self._check(step, before, query)
        except StepFailed as exc:
            ok, detail = False, str(exc)
        except TimeoutError:
            ok, detail = (
                False,
                f"the bot was still busy after {self.timeout:g}s "
                f"({self.box.homeward.processor.in_flight} update(s) in flight)",
            )
        received = {
            key: tuple(got)
            for key, person in self.box.world.people.items()
            if (got := self._received(before, person.user_id))
        }
        return StepResult(step, ok, detail, received)

    async def run(
        self, scenario: Scenario, report: Callable[[StepResult], None] | None = None
    ) -> list[StepResult]:
        """Run until the first failed step; returns the results of the steps run."""
        results = []
        for step in scenario.steps:
            result = await self.run_step(step)
            results.append(result)
            if report is not None:
                report(result)
            if not result.ok:
                break
        return results


async def run_scenario(
    settings: Settings,
    scenario: Scenario,
    *,
    empty: bool = False,
    report: Callable[[StepResult], None] | None = None,
    database_url: str | None = None,
) -> list[StepResult]:
    """Start a fresh sandbox on a fake clock, run ``scenario`` against it, stop it."""
    empty = empty or scenario.empty
    scenario.check_world(empty=empty)
    clock = FakeClock(scenario.start or DEFAULT_START)
    box = await start_sandbox(
        settings, empty=empty, clock=clock, port=0, unpaced=True, database_url=database_url
    )
    try:
        runner = ScenarioRunner(box, clock=clock)
        async with asyncio.timeout(STEP_TIMEOUT):
            await runner.settle()  # the seeded world's menus go out first
        return await runner.run(scenario, report)
    finally:
        await box.stop()


def load_scenario(path: str) -> Scenario:
    """Read and parse a scenario file; ScenarioError for anything wrong with it."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    return parse_scenario(text, source=path)


__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioRunner",
    "Step",
    "StepResult",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
    "run_scenario",
]
