"""Opaque button tokens. Callback data is never trusted: it only names a server-side record.

A button carries ``t:<token>`` (24 bytes); the record says what the button does, for
whom, and until when. Every press is authorised again by the use case it leads to.
"""

from __future__ import annotations

from typing import Any

from bot.domain.errors import NotAllowed, StaleAction
from bot.domain.outgoing import Button
from bot.services.context import ServiceContext
from bot.services.ports import ActionRecord, UnitOfWork

TOKEN_BYTES = 16  # 128 bits, 22 characters


async def issue(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    action: str,
    payload: dict[str, Any],
    audience_telegram_id: int | None,
) -> str:
    now = ctx.clock.now()
    token = ctx.ids.token(TOKEN_BYTES)
    await uow.actions.add(
        ActionRecord(
            token=token,
            action=action,
            payload=payload,
            audience_telegram_id=audience_telegram_id,
            created_at=now,
            expires_at=now + ctx.membership.action_ttl,
        )
    )
    return token


async def button(
    uow: UnitOfWork,
    ctx: ServiceContext,
    text: str,
    *,
    action: str,
    payload: dict[str, Any],
    audience_telegram_id: int | None,
) -> Button:
    token = await issue(
        uow, ctx, action=action, payload=payload, audience_telegram_id=audience_telegram_id
    )
    return Button(text, token=token)


def parse_callback_data(data: str | None) -> str | None:
    """Return the token from ``t:<token>``; None for anything else (forged or foreign)."""
    if not data or not data.startswith("t:"):
        return None
    token = data[2:]
    if not 16 <= len(token) <= 62 or not all(c.isalnum() or c in "-_" for c in token):
        return None
    return token


async def resolve(
    uow: UnitOfWork, ctx: ServiceContext, *, token: str, telegram_id: int
) -> ActionRecord:
    """The action behind a token, if this person may press it now."""
    record = await uow.actions.get(token)
    if record is None or record.expires_at <= ctx.clock.now():
        raise StaleAction("unknown or expired button")
    if record.audience_telegram_id is not None and record.audience_telegram_id != telegram_id:
        raise NotAllowed("button belongs to someone else")
    return record
