"""Bot API methods that send, edit and delete messages, failing as Telegram does.

Each handler takes the world and the validated parameters and returns the ``result`` JSON,
or the ``FakeMessage`` it created (its JSON becomes the result).
"""

from __future__ import annotations

import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .formatting import format_text
from .models import ApiError, FakeChat, FakeMessage, StoredFile, UploadedFile
from .world import World

Params = dict[str, Any]
Handler = Callable[[World, Params], Awaitable[Any]]

MAX_TEXT, MAX_CAPTION = 4096, 1024
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip


def _text(params: Params, key: str, limit: int, too_long: str) -> dict[str, Any]:
    prefix = "" if key == "text" else "caption_"
    text, entities = format_text(
        params.get(key) or "", params.get("parse_mode"), params.get(f"{prefix}entities")
    )
    if len(text) > limit:
        raise ApiError(400, f"Bad Request: {too_long}")
    if key == "text" and not text:
        raise ApiError(400, "Bad Request: message text is empty")
    body: dict[str, Any] = {key: text} if text else {}
    if entities:
        body[f"{prefix}entities"] = entities
    return body


def _markup(params: Params) -> dict[str, Any]:
    """The inline keyboard a message carries (other keyboards are not part of the message)."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return {}
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text is empty"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if len(button) == 1:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
    return {"reply_markup": markup}


def _reply_target(world: World, chat: FakeChat, params: Params) -> FakeMessage | None:
    reply = params.get("reply_parameters") or {}
    message_id = reply.get("message_id", params.get("reply_to_message_id"))
    if message_id is None:
        return None
    target_chat = reply.get("chat_id", chat.id)
    target = world.find_message(world.chat(target_chat, sending=False).id, int(message_id))
    allow = reply.get("allow_sending_without_reply", params.get("allow_sending_without_reply"))
    if target is None and not allow:
        raise ApiError(400, "Bad Request: message to be replied not found")
    return target


def _send(
    world: World, params: Params, body: dict[str, Any], file: StoredFile | None = None
) -> FakeMessage:
    chat = world.chat(params["chat_id"])
    reply_to = _reply_target(world, chat, params)
    return world.add_message(
        chat, body | _markup(params), sender=world.bot, reply_to=reply_to, file=file
    )


def _own_message(world: World, params: Params, action: str) -> FakeMessage:
    if "inline_message_id" in params:
        raise ApiError(400, f"Bad Request: message to {action} not found")
    if params.get("chat_id") is None or params.get("message_id") is None:
        raise ApiError(400, "Bad Request: chat_id is empty")
    chat = world.chat(params["chat_id"])
    message = world.find_message(chat.id, params["message_id"])
    if message is None:
        raise ApiError(400, f"Bad Request: message to {action} not found")
    return message


def _edit(message: FakeMessage, new: dict[str, Any], drop: tuple[str, ...]) -> FakeMessage:
    before = {k: message.data.get(k) for k in (*new, *drop)}
    if before == {k: new.get(k) for k in before}:
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message",
        )
    message.edits.append(dict(message.data))
    for key in drop:
        message.data.pop(key, None)
    message.data.update(new, edit_date=int(time.time()))
    return message


def send_media(world: World, params: Params, body: dict[str, Any], file: StoredFile) -> FakeMessage:
    """A media message (video, animation, video note), its caption checked like a photo's."""
    caption = _text(params, "caption", MAX_CAPTION, "message caption is too long")
    return _send(world, params, body | caption, file)


async def send_message(world: World, params: Params) -> Any:
    return _send(world, params, _text(params, "text", MAX_TEXT, "message is too long"))


async def send_photo(world: World, params: Params) -> Any:
    caption = _text(params, "caption", MAX_CAPTION, "message caption is too long")
    photo = params["photo"]
    if isinstance(photo, UploadedFile):
        sizes, largest = world.store_photo(photo.data, strict=True)
    elif photo in world.photo_sizes:
        sizes, largest = world.photo_sizes[photo], world.files[photo]
    else:
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    return _send(world, params, {"photo": sizes, **caption}, largest)


async def send_document(world: World, params: Params) -> Any:
    caption = _text(params, "caption", MAX_CAPTION, "message caption is too long")
    document = params["document"]
    if isinstance(document, UploadedFile):
        suffix = "." + document.filename.rpartition(".")[2] if "." in document.filename else ""
        stored = world.store_file(document.data, "documents", suffix)
        meta = {"file_name": document.filename, "mime_type": document.content_type}
    elif document in world.files:
        stored, meta = world.files[document], {}
    else:
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    return _send(world, params, {"document": stored.to_json(**meta), **caption}, stored)


def _probe_voice(data: bytes) -> float:
    """Telegram plays a voice message only from OGG with an Opus stream; its length in s."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            streams = container.streams.audio
            if container.format.name != "ogg" or not streams:
                raise ApiError(400, "Bad Request: VOICE_MESSAGE_INVALID (not an OGG audio file)")
            if streams[0].codec_context.name != "opus":
                raise ApiError(400, "Bad Request: VOICE_MESSAGE_INVALID (not Opus)")
            samples = sum(frame.samples for frame in container.decode(streams[0]))
            return samples / (streams[0].codec_context.sample_rate or 48000)
    except av.FFmpegError:
        raise ApiError(400, "Bad Request: VOICE_MESSAGE_INVALID (unreadable)") from None


async def send_voice(world: World, params: Params) -> Any:
    caption = _text(params, "caption", MAX_CAPTION, "message caption is too long")
    voice = params["voice"]
    if isinstance(voice, UploadedFile):
        seconds = _probe_voice(voice.data)
        stored = world.store_file(voice.data, "voice", ".oga")
    elif voice in world.files:
        stored = world.files[voice]
        seconds = _probe_voice(stored.data)
    else:
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    duration = params.get("duration") or max(1, round(seconds))
    body = {"voice": stored.to_json(duration=duration, mime_type="audio/ogg"), **caption}
    return _send(world, params, body, stored)


async def edit_message_text(world: World, params: Params) -> Any:
    message = _own_message(world, params, "edit")
    if not message.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    if message.text is None:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    new = _text(params, "text", MAX_TEXT, "message is too long") | _markup(params)
    return _edit(message, new, drop=("entities", "reply_markup"))


async def edit_message_reply_markup(world: World, params: Params) -> Any:
    message = _own_message(world, params, "edit")
    if not message.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    return _edit(message, _markup(params), drop=("reply_markup",))


async def delete_message(world: World, params: Params) -> Any:
    message = _own_message(world, params, "delete")
    chat = world.chats[message.chat_id]
    is_admin = world.member_status(chat.id, world.bot.id) in ("administrator", "creator")
    if not message.from_bot and chat.type != "private" and not is_admin:
        raise ApiError(400, "Bad Request: message can't be deleted")
    message.deleted = True
    return True


async def send_chat_action(world: World, params: Params) -> Any:
    chat = world.chat(params["chat_id"])
    if params["action"] not in CHAT_ACTIONS:
        raise ApiError(400, "Bad Request: wrong parameter action in request")
    world.chat_actions.append((chat.id, params["action"]))
    return True


async def send_message_draft(world: World, params: Params) -> Any:
    """A reply being written, shown in a private chat until the real message is sent."""
    chat = world.chat(params["chat_id"])
    if chat.type != "private":
        raise ApiError(400, "Bad Request: message drafts can be sent only to private chats")
    if params["draft_id"] == 0:
        raise ApiError(400, "Bad Request: draft_id must be non-zero")
    raw = params.get("text") or ""  # empty: Telegram shows "Thinking..."
    text, _ = format_text(raw, params.get("parse_mode"), params.get("entities"))
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    world.drafts.append((chat.id, params["draft_id"], text))
    return True


async def set_message_reaction(world: World, params: Params) -> Any:
    chat = world.chat(params["chat_id"])
    message = world.find_message(chat.id, params["message_id"])
    if message is None:
        raise ApiError(400, "Bad Request: message to react not found")
    message.reactions = list(params.get("reaction") or [])
    return True


MESSAGE_HANDLERS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendVoice": send_voice,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "sendChatAction": send_chat_action,
    "sendMessageDraft": send_message_draft,
    "setMessageReaction": set_message_reaction,
}
