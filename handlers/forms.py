"""Guided conversations at the edge: route answers to the form engine, render questions."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts, texts_forms, texts_updates
from bot.domain.errors import DomainError, StaleAction
from bot.domain.incidents import Incident, Youth
from bot.services import forms
from bot.services.context import ServiceContext
from bot.services.forms import FormCancelled, FormDone, FormPrompt, FormReply
from bot.services.resolution import Resolution
from bot.services.updates import Posted, Refused
from handlers.replies import explain, reply


def render(ctx: ServiceContext, result: FormReply) -> str:
    if isinstance(result, FormPrompt):
        return texts_forms.prompt(
            result.kind, result.step.key, result.data, result.problem, ctx.zone
        )
    if isinstance(result, FormCancelled):
        return texts_forms.CANCELLED
    return done_text(result)


def update_text(result: Posted | Refused) -> str:
    if isinstance(result, Posted):
        return texts_updates.posted(result.incident.code, result.update.id, result.recipients)
    return texts_updates.refused(result.reason, result.code, result.named)


def done_text(done: FormDone) -> str:
    value: Any = done.result
    if isinstance(value, Incident) and done.kind == "alert.raise":
        return (
            f"Thank you. Alert <b>{texts.esc(value.code)}</b> is with a coordinator to vet. "
            "I'll tell you as soon as it is sent. If something changes, use /edit; when the "
            "youth is back, use /found."
        )
    if isinstance(value, Incident):
        return (
            f"Saved as version {value.version} of <b>{texts.esc(value.code)}</b>. A coordinator "
            "must approve the change before it is sent."
        )
    if isinstance(value, Youth) and done.kind == "youth.move":
        return f"<b>{texts.esc(value.preferred_name)}</b>'s profile has moved."
    if isinstance(value, Youth):
        return f"Profile saved for <b>{texts.esc(value.preferred_name)}</b>."
    if isinstance(value, Posted | Refused):
        return update_text(value)
    if isinstance(value, Resolution):
        return (
            f"<b>{texts.esc(value.incident.code)}</b> is closed. Pulling details back: "
            f"{value.deleted} messages deleted, {value.edited} replaced with a note, "
            f"{value.cancelled} not sent. {value.notified} people are being told."
        )
    return "Done."


async def send(ctx: ServiceContext, chat_id: int, result: FormReply) -> None:
    keyboard = result.keyboard if isinstance(result, FormPrompt) else ()
    await reply(
        ctx,
        chat_id,
        render(ctx, result),
        keyboard=keyboard,
        kind="form",
        incident_id=_incident_of(result),
    )


def _incident_of(result: FormReply) -> int | None:
    """The incident a finished form was about (a drill's replies are marked DRILL)."""
    if not isinstance(result, FormDone):
        return None
    if isinstance(result.result, Incident):
        return result.result.id
    if isinstance(result.result, Resolution):
        return result.result.incident.id
    return None


async def on_message(ctx: ServiceContext, update: Update) -> bool:
    """Feed a member's non-command message to their form. False if they have none."""
    user = update.effective_user
    message = update.message
    if user is None or message is None:
        return False
    try:
        result: FormReply | None
        if message.location is not None:
            result = await forms.answer_location(
                ctx,
                telegram_id=user.id,
                latitude=message.location.latitude,
                longitude=message.location.longitude,
            )
        elif message.photo:
            result = await forms.answer_photo(
                ctx, telegram_id=user.id, file_id=message.photo[-1].file_id
            )
        elif message.text is not None:
            result = await forms.answer_text(ctx, telegram_id=user.id, text=message.text)
        else:
            state = await forms.current(ctx, telegram_id=user.id)
            if state is None:
                return False
            result = await forms.answer_text(ctx, telegram_id=user.id, text="")
    except StaleAction:
        return True
    except DomainError as error:
        await reply(ctx, user.id, explain(error))
        return True
    if result is None:
        return False
    await send(ctx, user.id, result)
    return True


async def on_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, ctx: ServiceContext
) -> None:
    user = update.effective_user
    if user is None:
        return
    cancelled = await forms.cancel(ctx, telegram_id=user.id)
    await reply(ctx, user.id, texts_forms.CANCELLED if cancelled else texts_forms.NO_FORM)
