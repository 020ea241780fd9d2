"""The one way anything leaves Homeward: write it to the outbox, then wake the sender."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.outgoing import Outgoing
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork


async def enqueue(ctx: ServiceContext, messages: Sequence[Outgoing]) -> list[int]:
    async with ctx.uow() as uow:
        ids = [await uow.outbox.add(m, at=ctx.clock.now()) for m in messages]
        await uow.commit()
    return ids


async def settle(
    uow: UnitOfWork, ctx: ServiceContext, *, ref: str, note: str, incident_id: int | None = None
) -> None:
    """Every copy of a question or card (``ref``) becomes a short note of how it ended:
    copies not yet sent are cancelled, texts are edited (their buttons go with the
    edit) and photos, which carry details, are deleted."""
    await uow.outbox.cancel_pending(ref=ref)
    now = ctx.clock.now()
    for sent in await uow.outbox.sent_for_ref(ref):
        if sent.method == "sendPhoto":
            message = Outgoing.delete(sent.chat_id, sent.message_id, incident_id=incident_id)
        else:
            message = Outgoing.edit_text(
                sent.chat_id, sent.message_id, note, incident_id=incident_id
            )
        await uow.outbox.add(message, at=now)
