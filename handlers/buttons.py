"""Every inline button press. Callback data is an opaque token; the service re-checks it."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot import texts, texts_alerts, texts_incidents
from bot.domain.errors import DomainError, NotAllowed, StaleAction
from bot.domain.outgoing import Outgoing, Priority
from bot.services import buttons, outbox
from bot.services.acknowledgements import AckOutcome
from bot.services.actions import parse_callback_data
from bot.services.alerts import VetOutcome
from bot.services.context import ServiceContext
from bot.services.drills import DrillOutcome
from bot.services.followups import FollowupOutcome
from bot.services.forms import FormCancelled, FormDone, FormPrompt
from bot.services.incident_views import ViewOutcome
from bot.services.invites import CreatedInvite
from bot.services.members import Decision
from bot.services.profiles import ProfileView
from bot.services.registration import Prompt
from bot.services.tasks import TaskOutcome
from bot.services.updates import SightingOutcome
from handlers import drills as drill_handlers
from handlers import followups as followup_handlers
from handlers import forms as form_handlers
from handlers import tasks as task_handlers
from handlers import updates as update_handlers
from handlers.registration import send_prompt
from handlers.replies import explain, reply

log = logging.getLogger(__name__)


def invite_link(bot_username: str | None, code: str) -> str:
    if bot_username:
        return f"https://t.me/{bot_username}?start={code}"
    return f"/start {code}"


def build(ctx: ServiceContext) -> CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]:
    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        token = parse_callback_data(query.data)
        toast: str | None = None
        if token is None:
            toast = texts.BUTTON_GONE
        else:
            try:
                outcome = await buttons.press(ctx, telegram_id=user.id, token=token)
            except NotAllowed as error:
                toast = texts.BUTTON_NOT_YOURS if "someone else" in error.detail else explain(error)
            except StaleAction:
                toast = texts.BUTTON_GONE
            except DomainError as error:
                toast = explain(error)
            else:
                toast = await _render(ctx, user.id, outcome, context.bot.username)
        try:
            await query.answer(toast[:200] if toast else None)
        except TelegramError:
            log.info("could not answer a callback query (it may be too old)")

    return CallbackQueryHandler(on_press)


async def _render(
    ctx: ServiceContext, chat_id: int, outcome: buttons.Outcome, bot_username: str | None
) -> str | None:
    if isinstance(outcome, buttons.InviteOrgChoice):
        if not outcome.choices:
            await reply(ctx, chat_id, texts.invite_no_org(outcome.role))
        else:
            await reply(
                ctx,
                chat_id,
                texts.invite_pick_org(outcome.role),
                keyboard=tuple((b,) for b in outcome.choices),
            )
        return None
    if isinstance(outcome, CreatedInvite):
        link = invite_link(bot_username, outcome.code)
        await reply(
            ctx,
            chat_id,
            texts.invite_created(
                link, outcome.invite.role, outcome.organisation, outcome.ttl_hours
            ),
        )
        return "Invite created"
    if isinstance(outcome, Decision):
        return f"Registration {outcome.decision}"
    if isinstance(outcome, Prompt):
        await send_prompt(ctx, chat_id, outcome)
        return None
    if isinstance(outcome, FormPrompt | FormDone | FormCancelled):
        await form_handlers.send(ctx, chat_id, outcome)
        return None
    if isinstance(outcome, VetOutcome):
        return await _render_vetting(ctx, chat_id, outcome)
    if isinstance(outcome, ProfileView):
        await _send_profile(ctx, chat_id, outcome)
        return "Opened (recorded)"
    if isinstance(outcome, buttons.SensitiveSent):
        return "Sent to you privately. Your view is recorded."
    if isinstance(outcome, TaskOutcome | AckOutcome):
        return await task_handlers.render(ctx, chat_id, outcome)
    if isinstance(outcome, ViewOutcome):
        return texts_incidents.OPENED
    if isinstance(outcome, DrillOutcome):
        return await drill_handlers.render(ctx, chat_id, outcome)
    if isinstance(outcome, SightingOutcome):
        return update_handlers.toast(outcome)
    if isinstance(outcome, FollowupOutcome):
        return followup_handlers.toast(outcome)
    return None


async def _render_vetting(ctx: ServiceContext, chat_id: int, outcome: VetOutcome) -> str | None:
    code = outcome.incident.code
    about = outcome.incident.id  # a drill's menus carry the DRILL marker too
    if outcome.incident.is_drill:
        code = f"DRILL {code}"
    if outcome.what == "approved":
        return f"{code} approved: sending to {outcome.recipients} people"
    if outcome.what == "rejected":
        return f"{code} rejected; the residence has been told"
    if outcome.what == "reject_menu":
        await reply(
            ctx,
            chat_id,
            f"Why is {texts.esc(outcome.incident.code)} not being sent?",
            keyboard=tuple((b,) for b in outcome.reason_choices),
            incident_id=about,
        )
        return None
    if outcome.what == "orgs_menu":
        if not outcome.org_choices:
            return "There are no other organisations to add"
        await reply(
            ctx,
            chat_id,
            f"Which organisation should {texts.esc(outcome.incident.code)} also reach?",
            keyboard=tuple((b,) for b in outcome.org_choices),
            incident_id=about,
        )
        return None
    return f"{code} updated; the vetting card has been refreshed"


async def _send_profile(ctx: ServiceContext, chat_id: int, view: ProfileView) -> None:
    text = texts_alerts.profile_card(view.youth, view.residence_name)
    messages: list[Outgoing] = []
    if view.youth.photo_file_id:
        caption = f"<b>{texts.esc(view.youth.preferred_name)}</b> (sealed profile photo)"
        messages.append(
            Outgoing.photo(
                chat_id,
                view.youth.photo_file_id,
                caption=caption,
                protect_content=True,
                priority=Priority.REPLY,
                kind="profile",
            )
        )
    messages.append(
        Outgoing.text(chat_id, text, protect_content=True, priority=Priority.REPLY, kind="profile")
    )
    await outbox.enqueue(ctx, messages)
