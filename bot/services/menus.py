"""Each member's Telegram command menu: the commands their role may use, kept current.

Telegram shows a bot's command menu per chat, as last set. Members get theirs when they
are approved (or change role); when a release adds commands, ``refresh_stale`` at start
re-sends the menu to every active member whose last one differs, once, even with
several instances starting together (each send is claimed in the database first).
"""

from __future__ import annotations

import hashlib
import json
import logging

from bot import texts
from bot.domain.membership import ROLE_COMMANDS, Member, Role
from bot.domain.outgoing import Outgoing, Priority
from bot.services import history
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 500


def menu(role: Role) -> list[tuple[str, str]]:
    return [(c, texts.COMMAND_DESCRIPTIONS[c]) for c in ROLE_COMMANDS[role]]


def signature(role: Role) -> str:
    body = json.dumps(menu(role), separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


async def send(uow: UnitOfWork, ctx: ServiceContext, member: Member) -> None:
    """Queue the member's role menu and remember that they have it."""
    await uow.members.claim_menu(member.id, signature(member.role))
    await uow.outbox.add(
        Outgoing.set_commands(member.telegram_id, menu(member.role)), at=ctx.clock.now()
    )


async def refresh_stale(ctx: ServiceContext) -> int:
    """Re-send the menu to active members whose last one is not current; returns how many."""
    signatures = {role: signature(role) for role in Role}
    sent = 0
    while True:
        async with ctx.uow() as uow:
            stale = await uow.members.stale_menus(signatures, limit=BATCH)
            if not stale:
                break
            now = ctx.clock.now()
            for member in stale:
                if await uow.members.claim_menu(member.id, signatures[member.role]):
                    await uow.outbox.add(
                        Outgoing.set_commands(
                            member.telegram_id, menu(member.role), priority=Priority.ROUTINE
                        ),
                        at=now,
                    )
                    sent += 1
            await uow.commit()
    if sent:
        async with ctx.uow() as uow:
            await history.record(
                uow,
                ctx,
                action="menus.refreshed",
                subject_type="system",
                subject_id="menus",
                details={"members": sent},
            )
            await uow.commit()
        log.info("command menus re-sent to %d members", sent)
    return sent
