"""/drill and its buttons: start a drill for a residence, or end one."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot import texts_drills
from bot.domain.errors import DomainError
from bot.services import drills
from bot.services.context import ServiceContext
from bot.services.drills import DrillOutcome
from handlers.replies import explain, reply


async def _drill(update: Update, context: ContextTypes.DEFAULT_TYPE, ctx: ServiceContext) -> None:
    user = update.effective_user
    if user is None:
        return
    try:
        outcome = await drills.command(ctx, telegram_id=user.id, args=list(context.args or []))
    except DomainError as error:
        await reply(ctx, user.id, explain(error))
        return
    await render(ctx, user.id, outcome)


async def render(ctx: ServiceContext, chat_id: int, outcome: DrillOutcome) -> str | None:
    """Send what a drill command or button produced; returns a toast for buttons."""
    incident = outcome.incident
    about = incident.id if incident is not None else None
    if outcome.what == "pick":
        await reply(
            ctx, chat_id, texts_drills.PICK_RESIDENCE, keyboard=tuple((b,) for b in outcome.choices)
        )
        return None
    if outcome.what == "confirm" and outcome.residence is not None:
        residence = outcome.residence
        text = texts_drills.confirm(
            residence.name,
            residence.latitude is not None and residence.longitude is not None,
            round(ctx.alerts.drill_duration.total_seconds() / 60),
        )
        await reply(ctx, chat_id, text, keyboard=(outcome.choices,))
        return None
    if (
        outcome.what == "started"
        and incident is not None
        and outcome.residence is not None
        and outcome.ends_at is not None
        and outcome.youth_name is not None
    ):
        text = texts_drills.started(
            incident.code, outcome.youth_name, outcome.residence.name, outcome.ends_at, ctx.zone
        )
        await reply(
            ctx, chat_id, text, keyboard=tuple((b,) for b in outcome.choices), incident_id=about
        )
        return f"Drill {incident.code} started"
    if outcome.what == "running" and incident is not None and outcome.residence is not None:
        text = texts_drills.already_running(incident.code, outcome.residence.name)
        await reply(ctx, chat_id, text, incident_id=about)
        return None
    if outcome.what == "ended" and incident is not None and outcome.resolution is not None:
        done = outcome.resolution
        text = texts_drills.ending(incident.code, done.deleted, done.edited, done.notified)
        await reply(ctx, chat_id, text, incident_id=about)
        return f"Drill {incident.code} ended"
    if outcome.what == "which":
        await reply(ctx, chat_id, texts_drills.which_to_end(list(outcome.codes)))
        return None
    if outcome.what == "not_now":
        return texts_drills.NOT_STARTED
    simple = {
        "no_residence": texts_drills.NO_RESIDENCE,
        "no_vetter": texts_drills.NO_VETTER,
        "none_to_end": texts_drills.NOTHING_TO_END,
    }
    await reply(ctx, chat_id, simple.get(outcome.what, texts_drills.USAGE))
    return None


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    async def drill(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await _drill(update, context, ctx)

    return [CommandHandler("drill", drill, filters=filters.ChatType.PRIVATE)]
