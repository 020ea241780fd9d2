"""Registration in private chat: ``/start <code>``, then answers to each question."""

from __future__ import annotations

from telegram import Update

from bot import texts
from bot.domain.errors import DomainError, InvalidInput, InviteRefused, LockedOut, NotAllowed
from bot.services import registration
from bot.services.context import ServiceContext
from bot.services.registration import Prompt, PromptKind
from handlers.replies import reply


async def begin(ctx: ServiceContext, update: Update, code: str) -> None:
    user = update.effective_user
    if user is None:
        return
    try:
        prompt = await registration.start(ctx, telegram_id=user.id, code=code)
    except (InviteRefused, LockedOut, NotAllowed):
        from handlers.gate import generic

        await generic(ctx, update)
        return
    await send_prompt(ctx, user.id, prompt)


async def continue_registration(ctx: ServiceContext, update: Update) -> None:
    """Any message from someone mid-registration answers the current question."""
    user = update.effective_user
    message = update.message
    if user is None or message is None or update.callback_query is not None:
        return  # buttons go through the button handler
    try:
        if message.text and message.text.strip().split()[0] in ("/cancel", "/stop"):
            prompt = await registration.cancel(ctx, telegram_id=user.id)
        elif message.location is not None:
            prompt = await registration.answer_location(
                ctx,
                telegram_id=user.id,
                latitude=message.location.latitude,
                longitude=message.location.longitude,
            )
        elif message.text and message.text.startswith("/start"):
            code = message.text.split(maxsplit=1)[1] if " " in message.text else ""
            prompt = await registration.start(ctx, telegram_id=user.id, code=code)
        elif message.text:
            prompt = await registration.answer_text(ctx, telegram_id=user.id, text=message.text)
        else:
            prompt = await registration.answer_text(ctx, telegram_id=user.id, text="")
    except InvalidInput:
        prompt = await registration.answer_text(ctx, telegram_id=user.id, text="")
    except DomainError:
        from handlers.gate import generic

        await generic(ctx, update)
        return
    await send_prompt(ctx, user.id, prompt)


def render(prompt: Prompt, ctx: ServiceContext) -> str:
    policy = ctx.membership
    member = prompt.member
    kind = prompt.kind
    if kind is PromptKind.ASK_NAME and member is not None:
        return texts.reg_welcome(member.role, prompt.org)
    if kind is PromptKind.NAME_INVALID:
        return texts.REG_NAME_INVALID
    if kind is PromptKind.CONFIRM_ORG:
        return texts.reg_confirm_org(prompt.org)
    if kind is PromptKind.CONFIRM_ORG_AGAIN:
        return texts.REG_CONFIRM_ORG_PROMPT + "\n\n" + texts.reg_confirm_org(prompt.org)
    if kind is PromptKind.ASK_AREA:
        return texts.REG_AREA
    if kind is PromptKind.AREA_INVALID:
        return texts.REG_AREA_INVALID
    if kind is PromptKind.ASK_RADIUS:
        return texts.reg_radius(policy.radius_choices_km, policy.max_radius_km)
    if kind is PromptKind.RADIUS_INVALID:
        return texts.reg_radius_invalid(policy.max_radius_km)
    if kind is PromptKind.DONE:
        return texts.REG_DONE
    if kind is PromptKind.CANCELLED:
        return texts.REG_CANCELLED
    if kind is PromptKind.WRONG_ORG:
        return texts.REG_WRONG_ORG
    return texts.ALREADY_MEMBER


async def send_prompt(ctx: ServiceContext, chat_id: int, prompt: Prompt) -> None:
    await reply(ctx, chat_id, render(prompt, ctx), keyboard=prompt.keyboard, kind="registration")
