"""The engine behind every guided conversation (/missing, /addyouth, ...).

A member has at most one form in progress, stored in the database: restarts lose
nothing, and each answer moves the form on only if it is still at the step the
answer was for (a double tap or a stale button changes nothing). Bad input gets
the same step again with a kind explanation. Nothing is created until the last
step completes, so nothing half-made is ever sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.errors import NotAllowed, StaleAction
from bot.domain.forms import Context, FormSpec, Parsed, Step, StepKind, parse_typed
from bot.domain.geo import validate_point
from bot.domain.membership import Member
from bot.domain.outgoing import Button, Keyboard
from bot.services import access, actions
from bot.services.context import ServiceContext
from bot.services.ports import GeocodingUnavailable, UnitOfWork
from bot.services.ports_alerts import FormState

SKIP = "__skip__"
CANCEL = "__cancel__"


class FormBehaviour:
    """What a kind of form adds to the engine. Subclasses override what they need."""

    kind: str = ""
    spec: FormSpec

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        """Buttons for a step: (value, label). Defaults to the step's static choices."""
        return list(step.choices)

    async def resolve_shortcut(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        value: str,
        data: dict[str, Any],
    ) -> Parsed:
        """A button on a LOCATION step (e.g. "at the residence") -> a stored value."""
        return Parsed.bad("choice")

    def after_step(self, data: dict[str, Any], step: Step, ctx: ServiceContext) -> str | None:
        """Derive values; return a step key to go back to, or None to carry on."""
        return None

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class FormPrompt:
    kind: str
    step: Step
    data: dict[str, Any]
    keyboard: Keyboard = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class FormDone:
    kind: str
    result: Any


@dataclass(frozen=True, slots=True)
class FormCancelled:
    kind: str


FormReply = FormPrompt | FormDone | FormCancelled


@dataclass
class Registry:
    behaviours: dict[str, FormBehaviour] = field(default_factory=dict)

    def add(self, behaviour: FormBehaviour) -> None:
        self.behaviours[behaviour.kind] = behaviour

    def get(self, kind: str) -> FormBehaviour:
        return self.behaviours[kind]


_default: Registry | None = None


def registry() -> Registry:
    """The form kinds Homeward knows, built on first use (not at import)."""
    global _default
    if _default is None:
        from bot.services import alerts, profiles, update_forms

        built = Registry()
        for behaviour in (
            *alerts.form_behaviours(),
            *profiles.form_behaviours(),
            *update_forms.form_behaviours(),
        ):
            built.add(behaviour)
        _default = built
    return _default


def _context(ctx: ServiceContext) -> Context:
    return Context(now=ctx.clock.now(), zone=ctx.zone)


async def begin(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    member: Member,
    kind: str,
    data: dict[str, Any] | None = None,
) -> FormPrompt | FormDone:
    """Start a form (replacing any other the member had) and ask its first question."""
    behaviour = registry().get(kind)
    data = dict(data or {})
    first = behaviour.spec.next_step(data, None)
    state = await uow.forms.start(
        member_id=member.id,
        kind=kind,
        step=first.key if first else None,
        data=data,
        at=ctx.clock.now(),
    )
    if first is None:
        result = await behaviour.complete(uow, ctx, member, data)
        await uow.forms.delete(member.id)
        return FormDone(kind, result)
    return await _prompt(uow, ctx, member, behaviour, state.id, first, data)


async def current(ctx: ServiceContext, *, telegram_id: int) -> FormState | None:
    async with ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(telegram_id)
        if member is None or not member.is_active:
            return None
        state = await uow.forms.get(member.id)
    if state is not None and ctx.clock.now() - state.updated_at > ctx.alerts.form_timeout:
        return None
    return state


async def answer_text(ctx: ServiceContext, *, telegram_id: int, text: str) -> FormReply | None:
    """A typed answer. None when the member has no form in progress."""
    state = await current(ctx, telegram_id=telegram_id)
    if state is None or state.step is None:
        return None
    behaviour = registry().get(state.kind)
    step = behaviour.spec.step(state.step)
    if step.optional and text.strip().lower() in ("skip", "none", "-"):
        parsed = Parsed.good(None)
    elif step.kind is StepKind.LOCATION:
        parsed = await _geocode(ctx, text)
    else:
        parsed = parse_typed(step, text, _context(ctx))
    return await _apply(ctx, telegram_id, state, step, parsed)


async def answer_location(
    ctx: ServiceContext, *, telegram_id: int, latitude: float, longitude: float
) -> FormReply | None:
    state = await current(ctx, telegram_id=telegram_id)
    if state is None or state.step is None:
        return None
    step = registry().get(state.kind).spec.step(state.step)
    if step.kind is not StepKind.LOCATION:
        return await _apply(ctx, telegram_id, state, step, Parsed.bad("location_unexpected"))
    try:
        validate_point(latitude, longitude)
    except Exception:
        return await _apply(ctx, telegram_id, state, step, Parsed.bad("location_invalid"))
    value = {"latitude": latitude, "longitude": longitude, "label": None, "source": "shared"}
    return await _apply(ctx, telegram_id, state, step, Parsed.good(value))


async def answer_photo(ctx: ServiceContext, *, telegram_id: int, file_id: str) -> FormReply | None:
    state = await current(ctx, telegram_id=telegram_id)
    if state is None or state.step is None:
        return None
    step = registry().get(state.kind).spec.step(state.step)
    if step.kind is not StepKind.PHOTO:
        return await _apply(ctx, telegram_id, state, step, Parsed.bad("photo_unexpected"))
    return await _apply(ctx, telegram_id, state, step, Parsed.good(file_id[:200]))


async def cancel(ctx: ServiceContext, *, telegram_id: int) -> FormCancelled | None:
    async with ctx.uow() as uow:
        member = await access.require_active(uow, telegram_id=telegram_id)
        state = await uow.forms.get(member.id)
        if state is None:
            return None
        await uow.forms.delete(member.id)
        await uow.commit()
    return FormCancelled(state.kind)


async def press(
    uow: UnitOfWork, ctx: ServiceContext, *, telegram_id: int, payload: dict[str, Any]
) -> FormReply:
    """A button on a form question: only valid while the form is still at that step."""
    member = await access.require_active(uow, telegram_id=telegram_id)
    state = await uow.forms.get(member.id)
    if state is None or state.id != payload.get("form") or state.step != payload.get("step"):
        raise StaleAction("that question has already been answered")
    behaviour = registry().get(state.kind)
    step = behaviour.spec.step(str(state.step))
    value = str(payload.get("value"))
    if value == CANCEL:
        await uow.forms.delete(member.id)
        return FormCancelled(state.kind)
    if value == SKIP and step.optional:
        parsed = Parsed.good(None)
    elif step.kind is StepKind.YES_NO:
        parsed = Parsed.good(value == "yes") if value in ("yes", "no") else Parsed.bad("yes_no")
    elif step.kind is StepKind.LOCATION:
        parsed = await behaviour.resolve_shortcut(uow, ctx, member, step, value, state.data)
    else:
        allowed = {v for v, _ in await behaviour.choices(uow, ctx, member, step, state.data)}
        parsed = Parsed.good(value) if value in allowed else Parsed.bad("choice")
        if step.kind is StepKind.WHEN and parsed.ok:
            parsed = parse_typed(step, value, _context(ctx))
    return await _apply_in(uow, ctx, member, state, step, parsed)


async def _geocode(ctx: ServiceContext, text: str) -> Parsed:
    """Outside any transaction: a slow geocoder must not hold the database."""
    query = " ".join(text.split())
    if query.startswith("/") or not 3 <= len(query) <= 200:
        return Parsed.bad("address_shape")
    if ctx.geocoder is None:
        return Parsed.bad("geocoder_down")
    try:
        found = await ctx.geocoder.geocode(query)
    except GeocodingUnavailable:
        return Parsed.bad("geocoder_down")
    if found is None:
        return Parsed.bad("address_not_found")
    return Parsed.good(
        {
            "latitude": found.latitude,
            "longitude": found.longitude,
            "label": found.label[:200],
            "source": "address",
            "typed": query,
        }
    )


async def _apply(
    ctx: ServiceContext, telegram_id: int, state: FormState, step: Step, parsed: Parsed
) -> FormReply:
    async with ctx.uow() as uow:
        member = await access.require_active(uow, telegram_id=telegram_id)
        fresh = await uow.forms.get(member.id)
        if fresh is None or fresh.id != state.id or fresh.step != state.step:
            raise StaleAction("the form moved on meanwhile")
        reply = await _apply_in(uow, ctx, member, fresh, step, parsed)
        await uow.commit()
    return reply


async def _apply_in(
    uow: UnitOfWork,
    ctx: ServiceContext,
    member: Member,
    state: FormState,
    step: Step,
    parsed: Parsed,
) -> FormReply:
    behaviour = registry().get(state.kind)
    if not parsed.ok:
        return await _prompt(
            uow, ctx, member, behaviour, state.id, step, state.data, parsed.problem
        )
    data = dict(state.data)
    data[step.key] = parsed.value
    back = behaviour.after_step(data, step, ctx)
    following = behaviour.spec.step(back) if back else behaviour.spec.next_step(data, step.key)
    saved = await uow.forms.save(
        state.id,
        expected_step=state.step,
        step=following.key if following else None,
        data=data,
        at=ctx.clock.now(),
    )
    if not saved:
        raise StaleAction("the form moved on meanwhile")
    if following is None:
        result = await behaviour.complete(uow, ctx, member, data)
        await uow.forms.delete(member.id)
        return FormDone(state.kind, result)
    return await _prompt(uow, ctx, member, behaviour, state.id, following, data)


async def _prompt(
    uow: UnitOfWork,
    ctx: ServiceContext,
    member: Member,
    behaviour: FormBehaviour,
    form_id: int,
    step: Step,
    data: dict[str, Any],
    problem: str | None = None,
) -> FormPrompt:
    rows: list[tuple[Button, ...]] = []

    async def button(label: str, value: str) -> Button:
        return await actions.button(
            uow,
            ctx,
            label[:60],
            action="form.choice",
            payload={"form": form_id, "step": step.key, "value": value},
            audience_telegram_id=member.telegram_id,
        )

    if step.kind is StepKind.YES_NO:
        rows.append((await button("Yes", "yes"), await button("No", "no")))
    else:
        for value, label in await behaviour.choices(uow, ctx, member, step, data):
            rows.append((await button(label, value),))
    last: list[Button] = []
    if step.optional:
        last.append(await button("Skip", SKIP))
    last.append(await button("Cancel", CANCEL))
    rows.append(tuple(last))
    return FormPrompt(behaviour.kind, step, data, tuple(rows), problem)


__all__ = ["FormBehaviour", "FormDone", "FormPrompt", "NotAllowed", "begin", "registry"]
