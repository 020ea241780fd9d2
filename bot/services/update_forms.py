"""Two ways to post an update: the ``/update`` form (the alert, the text, an optional
place and photo, then a review) and a reply to one of the bot's messages about an
incident. Both end in :func:`bot.services.updates.post`, which does every check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain.errors import InvalidInput, NotFound
from bot.domain.forms import FormSpec, Step, StepKind, clean_text
from bot.domain.membership import Member
from bot.domain.updates import CODE_PATTERN, TEXT_MAX
from bot.services import access
from bot.services.context import ServiceContext
from bot.services.forms import FormBehaviour, FormPrompt
from bot.services.ports import UnitOfWork
from bot.services.update_audience import active_incidents_for
from bot.services.updates import COMMAND, Posted, Refused, post, record_refusal, refusal_for

# Replies to the bot's messages ----------------------------------------------------------------

_COMMAND = re.compile(r"\s*/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+|$)")
_LEADING_CODE = re.compile(r"(" + CODE_PATTERN.pattern + r")(?:\s+|$)", re.IGNORECASE)


async def post_reply(
    ctx: ServiceContext,
    *,
    telegram_id: int,
    chat_id: int,
    replied_message_id: int,
    text: str | None,
    latitude: float | None = None,
    longitude: float | None = None,
    photo_file_id: str | None = None,
) -> Posted | Refused | None:
    """A reply to one of the bot's messages about an incident posts an update to THAT
    incident. None when the replied-to message is not about an incident (or the reply
    is some other command): the caller treats it as an ordinary message."""
    command = _COMMAND.match(text or "")
    if command is not None and command.group(1).lower() != COMMAND:
        return None  # another command: not an update
    body = text[command.end() :] if text is not None and command is not None else text
    named: str | None = None
    leading = _LEADING_CODE.match(body or "") if command is not None else None
    if body is not None and leading is not None:
        named, body = leading.group(1).upper(), body[leading.end() :]
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command=COMMAND)
        incident_id = await uow.outbox.message_incident(chat_id, replied_message_id)
        if incident_id is None:
            return None
        incident = await uow.incidents.get(incident_id)
        if incident is None:
            return None
        if named is not None and named != incident.code:
            result: Posted | Refused = await record_refusal(
                uow, ctx, member, incident, Refused("wrong_incident", incident.code, named), "reply"
            )
        else:
            result = await post(
                uow,
                ctx,
                actor=member,
                incident=incident,
                text=body,
                latitude=latitude,
                longitude=longitude,
                photo_file_id=photo_file_id,
                via="reply",
            )
        await uow.commit()
    return result


# /update: a short form -------------------------------------------------------------------------


def _no_address(data: Mapping[str, Any]) -> bool:
    return (data.get("location") or {}).get("source") != "address"


UPDATE_STEPS = (
    Step("incident", StepKind.CHOICE, skip_if=lambda d: d.get("incident") is not None),
    Step("text", StepKind.TEXT, max_len=TEXT_MAX, skip_if=lambda d: d.get("text") is not None),
    Step("location", StepKind.LOCATION, optional=True),
    Step("location_confirm", StepKind.YES_NO, skip_if=_no_address),
    Step("photo", StepKind.PHOTO, optional=True),
    Step("review", StepKind.CHOICE, choices=(("post", "Post the update"),)),
)


class PostUpdate(FormBehaviour):
    kind = "update.post"
    spec = FormSpec(kind, UPDATE_STEPS)

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        if step.key == "incident":
            return [(str(i.id), i.code) for i in await active_incidents_for(uow, ctx, member)]
        return list(step.choices)

    def after_step(self, data: dict[str, Any], step: Step, ctx: ServiceContext) -> str | None:
        if step.key == "location_confirm" and data.get("location_confirm") is False:
            data["location"] = None
            return "location"
        return None

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Posted | Refused:
        incident = await uow.incidents.get(int(data["incident"]))
        if incident is None:
            raise NotFound("incident")
        place = data.get("location") or {}
        return await post(
            uow,
            ctx,
            actor=member,
            incident=incident,
            text=data.get("text"),
            latitude=place.get("latitude"),
            longitude=place.get("longitude"),
            location_label=place.get("label"),
            photo_file_id=data.get("photo"),
            via="command",
        )


async def start_update(
    ctx: ServiceContext, *, telegram_id: int, args: list[str]
) -> FormPrompt | Refused:
    """/update [CODE] [text]: the form, for the named alert or the member's only one."""
    from bot.services import forms

    words = list(args)
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command=COMMAND)
        data: dict[str, Any] = {}
        text = " ".join(words[1:] if words and CODE_PATTERN.fullmatch(words[0]) else words)
        if words and CODE_PATTERN.fullmatch(words[0]):
            code = words[0].upper()
            incident = await uow.incidents.get_by_code(code)
            if incident is None:
                return Refused("unknown", code)  # nothing to record: no such incident
            refusal = await refusal_for(uow, ctx, member, incident, text=text, via="command")
            if refusal is not None:
                await record_refusal(uow, ctx, member, incident, refusal, "command")
                await uow.commit()
                return refusal
            data["incident"] = str(incident.id)
        else:
            mine = await active_incidents_for(uow, ctx, member)
            if not mine:
                return Refused("none")
            if len(mine) == 1:
                data["incident"] = str(mine[0].id)
        cleaned = clean_text(text, TEXT_MAX) if text.strip() else None
        if cleaned is not None and not cleaned.startswith("/"):
            data["text"] = cleaned
        reply = await forms.begin(uow, ctx, member=member, kind=PostUpdate.kind, data=data)
        await uow.commit()
    if not isinstance(reply, FormPrompt):
        raise InvalidInput("the update form could not start")
    return reply


def form_behaviours() -> list[FormBehaviour]:
    return [PostUpdate()]
