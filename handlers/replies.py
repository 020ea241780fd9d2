"""Helpers shared by the handlers: reply through the outbox, explain domain errors."""

from __future__ import annotations

from bot import texts
from bot.domain.errors import DomainError
from bot.domain.outgoing import Keyboard, Outgoing, Priority
from bot.services import outbox
from bot.services.context import ServiceContext


async def reply(
    ctx: ServiceContext,
    chat_id: int,
    text: str,
    *,
    keyboard: Keyboard = (),
    kind: str = "reply",
    incident_id: int | None = None,
) -> None:
    """Reply through the outbox; ``incident_id`` when the reply is about one incident
    (a drill's replies then carry the DRILL marker like its other messages)."""
    await outbox.enqueue(
        ctx,
        [
            Outgoing.text(
                chat_id,
                text,
                keyboard=keyboard,
                priority=Priority.REPLY,
                kind=kind,
                incident_id=incident_id,
            )
        ],
    )


def explain(error: DomainError) -> str:
    """A kind sentence for a domain error; the detail is only added for bad input."""
    base = texts.ERRORS.get(error.code, texts.ERRORS["error"])
    if error.code == "invalid_input" and error.detail:
        return f"{base} {texts.esc(error.detail.capitalize())}."
    return base
