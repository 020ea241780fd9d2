"""The one way anything leaves Homeward: write it to the outbox, then wake the sender."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.outgoing import Outgoing
from bot.services.context import ServiceContext


async def enqueue(ctx: ServiceContext, messages: Sequence[Outgoing]) -> list[int]:
    async with ctx.uow() as uow:
        ids = [await uow.outbox.add(m, at=ctx.clock.now()) for m in messages]
        await uow.commit()
    return ids
