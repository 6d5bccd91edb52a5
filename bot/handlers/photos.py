"""A photo arrives: the person in it looks, becomes someone, speaks, and is drawn speaking."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat_queues import Arrival
from bot.downloads import download
from bot.failures import failure_key
from bot.handlers.common import (
    Place,
    chosen_language,
    display_name,
    telegram_language,
    user_language,
)
from bot.sending.bot_api import show_action
from bot.sending.drafts import DraftStream
from bot.sending.lines import say, voice_picture_video
from bot.sending.status import StatusMessage
from bot.services import Services, services
from bot.telegram_text import clean_user_text, without_addressing
from bot.texts import text
from inference.errors import InferenceError
from inference.types import Language
from storage import queries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoRef:
    """The file to download for a photo message: its id, the size Telegram declares, and who
    sent it (so /forget by that person finds every character made from it)."""

    file_id: str
    file_size: int | None
    author_id: int | None = None


def photo_of(message: Message) -> PhotoRef | None:
    """The largest photo size, or an image sent as a file; None for anything else."""
    # An anonymous admin's or a channel's photo is the chat's (as in Place.of).
    author = message.sender_chat or message.from_user
    author_id = author.id if author is not None else None
    if message.photo:
        largest = message.photo[-1]
        return PhotoRef(largest.file_id, largest.file_size, author_id)
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return PhotoRef(document.file_id, document.file_size, author_id)
    return None


def is_addressed_caption(message: Message, bot_username: str) -> bool:
    """In groups a photo is for us when its caption says /talk or mentions the bot."""
    entities = message.parse_caption_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION])
    for entity, value in entities.items():
        name = value.lower()
        if entity.type == MessageEntity.MENTION and name == f"@{bot_username.lower()}":
            return True
        if entity.type == MessageEntity.BOT_COMMAND and name in (
            "/talk",
            f"/talk@{bot_username.lower()}",
        ):
            return True
    return False


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (or an image file): its person speaks first and is drawn speaking. Photos sent
    together (an album) are met one after another, each its own character."""
    message = update.effective_message
    assert message is not None
    svc = services(context)
    place = Place.of(update)
    if place.group and not is_addressed_caption(message, svc.bot_username):
        return  # group photos not meant for us stay private to the group
    said = without_addressing(message.caption, svc.bot_username)
    await svc.chats.serve(place.chat_id, Arrival(update, context, said, photo=message))


async def talk_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/talk in reply to a photo: the person in that photo joins the chat."""
    message = update.effective_message
    assert message is not None
    reply = message.reply_to_message
    if reply is not None and photo_of(reply) is not None:
        said = clean_user_text(" ".join(context.args or []))
        await services(context).chats.serve(
            Place.of(update).chat_id, Arrival(update, context, said, photo=reply)
        )
        return
    lang = await user_language(update, context)
    key = "talk_needs_photo" if Place.of(update).group else "talk_private"
    await message.reply_text(text(key, lang))


async def meet_arrival(arrival: Arrival) -> None:
    """Make a character from the arrival's photo; its words (may be empty) are said first.

    A photo counts against MAX_PHOTOS_PER_HOUR only once it is accepted (decoded)."""
    update, context = arrival.update, arrival.context
    message = arrival.message
    svc, place = services(context), Place.of(update)
    chosen = await chosen_language(update, context)
    lang = chosen or telegram_language(update)
    assert arrival.photo is not None
    photo = photo_of(arrival.photo)
    if photo is None:
        await message.reply_text(text("unsupported_media", lang))
        return
    if photo.file_size is not None and photo.file_size > svc.settings.max_download_bytes:
        await message.reply_text(text("file_too_big", lang))
        return
    if not svc.limits.may_take_photo(place.user_id):
        await message.reply_text(text("photo_limit", lang))
        return
    async with svc.limits.job(place.user_id):
        await _meet(
            svc, context, place, message, photo, arrival.said, lang, chosen, arrival.arrived
        )


async def _meet(
    svc: Services,
    context: ContextTypes.DEFAULT_TYPE,
    place: Place,
    message: Message,
    photo: PhotoRef,
    said: str,
    lang: Language,
    chosen: Language | None,
    started: float,
) -> None:
    """Meet the person in the photo (`started`: when it arrived, for /forget meanwhile)."""
    bot, actor = context.bot, svc.actor
    status = await StatusMessage.post(
        bot,
        place.chat_id,
        text("status_looking", lang),
        reply_to=message.message_id,
        quiet=place.group,
    )
    await show_action(bot, place.chat_id)
    try:
        data = await download(bot, photo.file_id)
    except TelegramError as exc:
        log.warning("photo download failed: %s", exc)
        await status.fail(text("download_failed", lang))
        return
    # In private chats the first line appears while it is written; groups get the final one.
    drafts = None if place.group else DraftStream(bot, place.chat_id)
    try:
        image = await actor.decode(data)
        if not svc.limits.take_photo(place.user_id):
            await status.fail(text("photo_limit", lang))
            return
        description = await actor.describe(image, chat_key=place.chat_id)
        await status.update(text("status_thinking", lang))
        greeting = ""
        if said:  # the user spoke first: the character answers rather than greets
            persona = await actor.create_persona(description, lang, chat_key=place.chat_id)
        else:  # the card and the first line from one generation
            introduction = await actor.introduce(
                description, lang, chat_key=place.chat_id, on_draft=drafts
            )
            persona, greeting = introduction.persona, introduction.first_line
        if svc.forgotten.since(started, (place.user_id, photo.author_id), place.chat_id):
            # /forget came while the photo was looked at: nothing of it is kept.
            await status.update(text("character_gone", lang))
            return
        async with svc.sessions() as session, session.begin():
            await queries.upsert_user(session, place.user_id, display_name(message))
            character = await queries.create_character(
                session,
                chat_id=place.chat_id,
                owner_id=place.user_id,
                photo_file_id=photo.file_id,
                photo_author_id=photo.author_id,
                description=description,
                persona_name=persona.name,
                persona_traits=persona.traits,
                persona_style=persona.speaking_style,
                language=persona.language,
            )
            await queries.set_active_character(session, *place.active, character.id)
            if said:
                await queries.add_message(
                    session,
                    character_id=character.id,
                    chat_id=place.chat_id,
                    author_id=place.user_id,
                    author_name=display_name(message),
                    role="user",
                    text=said,
                    telegram_message_id=message.message_id,
                )
        if await _forgotten_meanwhile(svc, place, photo, started):
            await status.update(text("character_gone", lang))
            return
        if said:
            speaker = display_name(message) if place.group else None
            line = await actor.reply(
                persona,
                [],
                said,
                speaker=speaker,
                language=chosen,
                chat_key=place.chat_id,
                on_draft=drafts,
            )
        else:
            line = greeting
    except Exception as exc:  # the status note must not stay on "looking…"
        if not isinstance(exc, InferenceError):
            log.exception("meeting the person in a photo failed")
        await status.fail(text(failure_key(exc), lang))
        return
    finally:
        if drafts is not None:
            await drafts.finish()
    spoken = await say(svc, bot, character, line, reply_to=message.message_id)
    if spoken is None:  # forgotten (/forget) while it was being made
        await status.update(text("character_gone", lang))
        return
    # Voice, picture and video take longest: made in the background so this chat can talk.
    svc.media.follow(
        context.application,
        place.chat_id,
        character.id,
        lambda ticket: voice_picture_video(
            svc, bot, character, image, spoken, ticket, lang=lang, group=place.group, status=status
        ),
    )


async def _forgotten_meanwhile(
    svc: Services, place: Place, photo: PhotoRef, started: float
) -> bool:
    """A /forget between the check before storing and the commit: do again what it did, now
    that the new rows exist, so it is not undone."""
    forgotten = (place.user_id, photo.author_id)
    if not svc.forgotten.since(started, forgotten, place.chat_id):
        return False
    async with svc.sessions() as session, session.begin():
        for user_id in {u for u in forgotten if u is not None}:
            if place.group:
                await queries.forget_user_in_chat(session, user_id, place.chat_id)
            else:
                await queries.forget_user(session, user_id)
    return True
