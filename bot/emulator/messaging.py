"""Bot API methods that send, edit and delete messages, and answer callback queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.emulator.api import get_bool, get_float, get_int, get_str
from bot.emulator.html import utf16_len
from bot.emulator.models import JSON, EmuMessage, bad_request

if TYPE_CHECKING:
    from bot.emulator.api import BotApi, Handler

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
DELETE_WINDOW_SECONDS = 48 * 3600


def _common(api: BotApi, params: JSON) -> dict[str, Any]:
    return {
        "protect_content": get_bool(params, "protect_content"),
        "disable_notification": get_bool(params, "disable_notification"),
    }


async def send_message(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    chat = api.writable_chat(params)
    parse_mode = get_str(params, "parse_mode")
    visible, entities = api.render_text(get_str(params, "text"), parse_mode, caption=False)
    markup = api.validate_markup(params.get("reply_markup"))
    reply_to = api.reply_target(chat, params)
    api.take_token("sendMessage", chat)
    message = api.state.new_message(
        chat,
        from_bot=True,
        from_user_id=None,
        text=visible,
        raw_text=get_str(params, "text"),
        entities=entities,
        reply_markup=markup,
        parse_mode=parse_mode,
        reply_to_message_id=reply_to,
        **_common(api, params),
    )
    return api.state.message_to_api(message)


async def send_photo(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    chat = api.writable_chat(params)
    state = api.state
    photo = params.get("photo")
    upload = files.get("photo")
    if upload is None and isinstance(photo, str) and photo.startswith("attach://"):
        upload = files.get(photo.removeprefix("attach://"))
    if upload is None:
        if not isinstance(photo, str) or not photo:
            raise bad_request("there is no photo in the request")
        if photo not in state.files:
            raise bad_request("wrong file identifier/HTTP URL specified")
    elif not upload:
        raise bad_request("IMAGE_PROCESS_FAILED")
    parse_mode = get_str(params, "parse_mode")
    raw_caption = get_str(params, "caption")
    caption, entities = api.render_text(raw_caption, parse_mode, caption=True)
    markup = api.validate_markup(params.get("reply_markup"))
    reply_to = api.reply_target(chat, params)
    api.take_token("sendPhoto", chat)
    file_id = state.store_file(upload).file_id if upload is not None else str(photo)
    message = state.new_message(
        chat,
        from_bot=True,
        from_user_id=None,
        caption=caption,
        raw_caption=raw_caption,
        entities=entities,
        photo_file_id=file_id,
        reply_markup=markup,
        parse_mode=parse_mode,
        reply_to_message_id=reply_to,
        **_common(api, params),
    )
    return state.message_to_api(message)


def _coordinates(params: JSON) -> tuple[float, float]:
    latitude = get_float(params, "latitude")
    longitude = get_float(params, "longitude")
    if not -90.0 <= latitude <= 90.0:
        raise bad_request("wrong latitude")
    if not -180.0 <= longitude <= 180.0:
        raise bad_request("wrong longitude")
    return latitude, longitude


async def send_location(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    chat = api.writable_chat(params)
    point = _coordinates(params)
    markup = api.validate_markup(params.get("reply_markup"))
    reply_to = api.reply_target(chat, params)
    api.take_token("sendLocation", chat)
    message = api.state.new_message(
        chat,
        from_bot=True,
        from_user_id=None,
        location=point,
        reply_markup=markup,
        reply_to_message_id=reply_to,
        **_common(api, params),
    )
    return api.state.message_to_api(message)


async def send_venue(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    chat = api.writable_chat(params)
    latitude, longitude = _coordinates(params)
    title, address = get_str(params, "title"), get_str(params, "address")
    if not title:
        raise bad_request("venue title is empty")
    if address is None:
        raise bad_request("venue address is empty")
    markup = api.validate_markup(params.get("reply_markup"))
    reply_to = api.reply_target(chat, params)
    api.take_token("sendVenue", chat)
    venue: JSON = {
        "location": {"latitude": latitude, "longitude": longitude},
        "title": title,
        "address": address,
    }
    message = api.state.new_message(
        chat,
        from_bot=True,
        from_user_id=None,
        location=(latitude, longitude),
        venue=venue,
        reply_markup=markup,
        reply_to_message_id=reply_to,
        **_common(api, params),
    )
    return api.state.message_to_api(message)


def _editable(api: BotApi, params: JSON) -> EmuMessage:
    if params.get("inline_message_id"):
        raise bad_request("inline messages are not supported by the emulator")
    chat = api.lookup_chat(params)
    message_id = get_int(params, "message_id")
    assert message_id is not None  # noqa: S101 - get_int(required=True) raised otherwise
    message = api.state.find_message(chat.id, message_id)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _snapshot(message: EmuMessage) -> JSON:
    return {
        "text": message.text,
        "caption": message.caption,
        "entities": message.entities,
        "reply_markup": message.reply_markup,
        "date": (message.edit_date or message.date).isoformat(),
    }


def _apply_edit(api: BotApi, message: EmuMessage, changes: dict[str, Any]) -> Any:
    if all(getattr(message, key) == value for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED)
    api.take_token("editMessageText", api.state.chats[message.chat_id])
    message.edit_history.append(_snapshot(message))
    for key, value in changes.items():
        setattr(message, key, value)
    message.edited = True
    message.edit_date = api.state.clock.now()
    api.state.notify()
    return api.state.message_to_api(message)


async def edit_message_text(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    message = _editable(api, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    parse_mode = get_str(params, "parse_mode")
    visible, entities = api.render_text(get_str(params, "text"), parse_mode, caption=False)
    markup = api.validate_markup(params.get("reply_markup"))
    changes = {"text": visible, "entities": entities, "reply_markup": markup}
    if message.text == visible and message.entities == entities:
        changes["raw_text"] = message.raw_text  # same content: compare markup only
    else:
        changes["raw_text"] = get_str(params, "text")
        changes["parse_mode"] = parse_mode
    return _apply_edit(api, message, changes)


async def edit_message_caption(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    message = _editable(api, params)
    if message.photo_file_id is None:
        raise bad_request("there is no caption in the message to edit")
    parse_mode = get_str(params, "parse_mode")
    raw_caption = get_str(params, "caption")
    caption, entities = api.render_text(raw_caption, parse_mode, caption=True)
    markup = api.validate_markup(params.get("reply_markup"))
    changes = {"caption": caption, "entities": entities, "reply_markup": markup}
    if message.caption != caption or message.entities != entities:
        changes["raw_caption"] = raw_caption
    return _apply_edit(api, message, changes)


async def edit_message_media(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    """Photo to photo (by file_id or upload), with its caption. Bots may edit their own
    messages at any age (only deletion has the 48-hour rule)."""
    message = _editable(api, params)
    media = params.get("media")
    if not isinstance(media, dict):
        raise bad_request("can't parse InputMedia JSON object")
    if media.get("type") != "photo":
        raise bad_request("the emulator only edits media to a photo")
    if message.photo_file_id is None:
        raise bad_request("there is no media in the message to edit")
    state = api.state
    source = media.get("media")
    upload: bytes | None = None
    if isinstance(source, str) and source.startswith("attach://"):
        upload = files.get(source.removeprefix("attach://"))
        if upload is None:
            raise bad_request("can't find attached file")
        if not upload:
            raise bad_request("IMAGE_PROCESS_FAILED")
    elif not isinstance(source, str) or not source:
        raise bad_request("there is no photo in the request")
    elif source not in state.files:
        raise bad_request("wrong file identifier/HTTP URL specified")
    parse_mode = get_str(media, "parse_mode")
    raw_caption = get_str(media, "caption")
    caption, entities = api.render_text(raw_caption, parse_mode, caption=True)
    markup = api.validate_markup(params.get("reply_markup"))
    file_id = state.store_file(upload).file_id if upload is not None else str(source)
    changes = {
        "photo_file_id": file_id,
        "caption": caption,
        "raw_caption": raw_caption,
        "entities": entities,
        "reply_markup": markup,
    }
    return _apply_edit(api, message, changes)


async def edit_message_reply_markup(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    message = _editable(api, params)
    markup = api.validate_markup(params.get("reply_markup"))
    return _apply_edit(api, message, {"reply_markup": markup})


async def delete_message(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    chat = api.lookup_chat(params)
    message_id = get_int(params, "message_id")
    assert message_id is not None  # noqa: S101
    message = api.state.find_message(chat.id, message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    age = (api.state.clock.now() - message.date).total_seconds()
    if age >= DELETE_WINDOW_SECONDS:
        raise bad_request("message can't be deleted for everyone")
    message.deleted = True
    api.state.notify()
    return True


async def answer_callback_query(api: BotApi, params: JSON, files: dict[str, bytes]) -> Any:
    query_id = get_str(params, "callback_query_id")
    query = api.state.callback_queries.get(query_id or "")
    if query is None or query.get("answered"):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = get_str(params, "text")
    if text is not None and utf16_len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query["answered"] = True
    query["answer"] = {
        "text": text,
        "show_alert": get_bool(params, "show_alert"),
        "url": get_str(params, "url"),
    }
    api.state.notify()
    return True


HANDLERS: dict[str, Handler] = {
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "sendlocation": send_location,
    "sendvenue": send_venue,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "editmessagemedia": edit_message_media,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
}
