"""/police, and how follow-up buttons (status checks, the occurrence report) are shown."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot import texts_followups
from bot.domain.errors import DomainError, InvalidInput
from bot.services import followups
from bot.services.context import ServiceContext
from bot.services.followups import FollowupOutcome
from handlers.replies import explain, reply


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    async def police(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        args = list(context.args or [])
        if len(args) < 2:
            await reply(ctx, user.id, texts_followups.POLICE_USAGE)
            return
        try:
            outcome = await followups.record_police_report(
                ctx, telegram_id=user.id, code=args[0], number=" ".join(args[1:])
            )
        except InvalidInput as error:
            await reply(ctx, user.id, explain(error) + "\n" + texts_followups.POLICE_USAGE)
            return
        except DomainError as error:
            await reply(ctx, user.id, explain(error))
            return
        await reply(ctx, user.id, toast(outcome))

    return [CommandHandler("police", police, filters=filters.ChatType.PRIVATE)]


def toast(outcome: FollowupOutcome) -> str:
    incident = outcome.incident
    if outcome.what == "police_recorded":
        return texts_followups.police_recorded(incident, outcome.number or "")
    if outcome.what == "police_unchanged":
        return texts_followups.police_unchanged(incident, outcome.number or "")
    if outcome.what == "police_exists":
        return texts_followups.police_exists(incident, outcome.number or "")
    if outcome.what == "status_confirmed" and outcome.every is not None:
        return texts_followups.status_confirmed_toast(incident, outcome.every)
    if outcome.what == "status_review":
        return texts_followups.status_review_toast(incident)
    if outcome.what == "occurrence_filed":
        return texts_followups.occurrence_filed_toast(incident)
    if outcome.what == "occurrence_already":
        return texts_followups.occurrence_already_toast(outcome.name or "someone")
    return "Done."
