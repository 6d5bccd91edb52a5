"""Text to a character: it answers in character, remembering the conversation."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, MessageEntity, Update
from telegram.ext import ContextTypes

from bot.conversation import persona_of, turns_of
from bot.delivery import say
from bot.failures import failure_key
from bot.handlers.common import (
    Place,
    current_character,
    display_name,
    is_reply_to_bot,
    user_language,
)
from bot.sending import action_while_slow
from bot.services import services
from bot.telegram_text import clean_user_text
from bot.texts import Lang, text
from inference.errors import InferenceError
from storage import queries

log = logging.getLogger(__name__)


def mentions_bot(message: Message, bot_username: str) -> bool:
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    return any(m.lower() == f"@{bot_username.lower()}" for m in mentions)


def without_mention(said: str, bot_username: str) -> str:
    return clean_user_text(
        " ".join(w for w in said.split() if w.lower() != f"@{bot_username.lower()}")
    )


async def _remember_user(
    session: AsyncSession, context: ContextTypes.DEFAULT_TYPE, user_id: int, name: str, lang: Lang
) -> None:
    """Store the user (and their name) once per process, not on every message."""
    if context.user_data is not None and context.user_data.get("stored_name") == name:
        return
    await queries.upsert_user(session, user_id, name, lang)
    if context.user_data is not None:
        context.user_data["stored_name"] = name


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text: the character answers in character, remembering the conversation."""
    message = update.effective_message
    assert message is not None
    svc, bot, place = services(context), context.bot, Place.of(update)
    if place.group and not (
        is_reply_to_bot(message, bot.id) or mentions_bot(message, svc.bot_username)
    ):
        return  # in groups we only answer what is addressed to us
    lang = await user_language(update, context)
    said = without_mention(clean_user_text(message.text), svc.bot_username)
    if not said:
        await message.reply_text(text("empty_text", lang))
        return
    if not svc.limits.start_job(place.user_id):
        await message.reply_text(text("one_at_a_time", lang))
        return
    try:
        name = display_name(message)
        # One transaction: find the character, read its history, store the user's turn.
        async with svc.sessions() as session, session.begin():
            character = await current_character(session, place, message, bot.id)
            if character is not None:
                await _remember_user(session, context, place.user_id, name, lang)
                history = await queries.last_turns(
                    session, character.id, svc.settings.history_turns
                )
                await queries.add_message(
                    session,
                    character_id=character.id,
                    chat_id=place.chat_id,
                    author_id=place.user_id,
                    author_name=name,
                    role="user",
                    text=said,
                    telegram_message_id=message.message_id,
                )
                if not place.group and message.reply_to_message is not None:
                    # Replying to an older character makes it the one this chat talks to.
                    await queries.set_active_character(session, *place.active, character.id)
        if character is None:
            key = "no_character" if not place.group else "talk_needs_photo"
            await message.reply_text(text(key, lang))
            return
        if svc.settings.log_message_text:
            log.info("chat %d user %d said: %s", place.chat_id, place.user_id, said)
        async with action_while_slow(bot, place.chat_id):
            answer = await svc.actor.reply(
                persona_of(character),
                turns_of(history, group=place.group),
                said,
                speaker=name if place.group else None,
                chat_key=place.chat_id,
            )
    except InferenceError as exc:
        await message.reply_text(text(failure_key(exc), lang))
        return
    finally:
        svc.limits.finish_job(place.user_id)
    await say(svc, bot, character, answer, reply_to=message.message_id)
