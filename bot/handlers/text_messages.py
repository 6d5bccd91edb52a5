"""Text to a character: it answers in character, remembering the conversation."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, MessageEntity, Update
from telegram.ext import ContextTypes

from bot.chat_queues import Arrival
from bot.failures import failure_key
from bot.handlers.common import (
    Place,
    chosen_language,
    current_character,
    display_name,
    is_reply_to_bot,
    telegram_language,
    user_language,
)
from bot.rows import persona_of, turns_of
from bot.sending.bot_api import action_while_slow
from bot.sending.drafts import DraftStream
from bot.sending.lines import SpokenLine, deliver, say, voice_and_video
from bot.services import Services, services
from bot.telegram_text import without_addressing
from bot.texts import text
from inference.errors import InferenceError
from storage import queries
from storage.records import CharacterRecord

log = logging.getLogger(__name__)


def mentions_bot(message: Message, bot_username: str) -> bool:
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    return any(m.lower() == f"@{bot_username.lower()}" for m in mentions)


async def _remember_user(
    session: AsyncSession, context: ContextTypes.DEFAULT_TYPE, user_id: int, name: str
) -> None:
    """Store the user (and their name) once per process, not on every message."""
    if context.user_data is not None and context.user_data.get("stored_name") == (user_id, name):
        return
    await queries.upsert_user(session, user_id, name)
    if context.user_data is not None:
        context.user_data["stored_name"] = (user_id, name)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text: the character answers in character, remembering the conversation; texts sent
    while it answers wait their turn (see ChatQueues)."""
    message = update.effective_message
    assert message is not None
    svc, bot, place = services(context), context.bot, Place.of(update)
    if place.group and not (
        is_reply_to_bot(message, bot.id) or mentions_bot(message, svc.bot_username)
    ):
        return  # in groups we only answer what is addressed to us
    said = without_addressing(message.text, svc.bot_username)
    if not said:
        await message.reply_text(text("empty_text", await user_language(update, context)))
        return
    await svc.chats.serve(place.chat_id, Arrival(update, context, said))


async def answer(run: list[Arrival]) -> None:
    """One answer to texts one sender wrote in a row to one character (`run`, in order): each
    is stored as its own turn, the answer replies to the last."""
    first, last = run[0], run[-1]
    update, context = first.update, first.context
    svc, bot, place = services(context), context.bot, Place.of(update)
    chosen = await chosen_language(update, context)  # decides the reply's language too
    lang = chosen or telegram_language(update)
    name = display_name(first.message)
    said = "\n".join(arrival.said for arrival in run)
    async with svc.limits.job(place.user_id):
        # One transaction: find the character, read its history, store the user's turns.
        async with svc.sessions() as session, session.begin():
            character = await current_character(session, place, last.message, bot.id)
            unsent = None
            if character is None:
                stored = []
            elif stored := await queries.user_turns_for(
                session, place.chat_id, [arrival.message.message_id for arrival in run]
            ):
                # A restart cut an answer to these messages short: they are kept already,
                # and a line written for them but never sent is sent, not written again.
                history = await queries.last_turns(
                    session, character.id, svc.settings.history_turns, before_id=stored[0].id
                )
                unsent = await queries.unsent_line_after(session, character.id, stored[-1].id)
            else:
                await _remember_user(session, context, place.user_id, name)
                history = await queries.last_turns(
                    session, character.id, svc.settings.history_turns
                )
                stored = [
                    await queries.add_message(
                        session,
                        character_id=character.id,
                        chat_id=place.chat_id,
                        author_id=place.user_id,
                        author_name=name,
                        role="user",
                        text=arrival.said,
                        telegram_message_id=arrival.message.message_id,
                        spoken=arrival.spoken,
                    )
                    for arrival in run
                ]
                if not place.group and last.message.reply_to_message is not None:
                    # Replying to an older character makes it the one this chat talks to.
                    await queries.set_active_character(session, *place.active, character.id)
        if character is None:
            key = "no_character" if not place.group else "talk_needs_photo"
            await last.message.reply_text(text(key, lang))
            return
        if svc.settings.log_message_text:
            log.info("chat %d user %d said: %s", place.chat_id, place.user_id, said)
        if unsent is not None:
            delivered = await deliver(
                svc, bot, character, unsent.id, unsent.text, reply_to=last.message.message_id
            )
            _follow(svc, context, place, character, delivered)
            return
        # In private chats the answer appears while it is written; groups get the final one.
        drafts = None if place.group else DraftStream(bot, place.chat_id)
        try:
            async with action_while_slow(bot, place.chat_id):
                line = await svc.actor.reply(
                    persona_of(character),
                    turns_of(history, group=place.group),
                    said,
                    speaker=name if place.group else None,
                    language=chosen or last.heard,
                    chat_key=place.chat_id,
                    on_draft=drafts,
                )
        except Exception as exc:
            # Unanswered turns are taken back: the user is asked to send them again, and a
            # message sent twice must not be in the conversation twice.
            async with svc.sessions() as session, session.begin():
                await queries.delete_turns(session, [turn.id for turn in stored])
            if not isinstance(exc, InferenceError):
                log.exception("reply of character %d failed", character.id)
            key = failure_key(exc) if isinstance(exc, InferenceError) else "try_again"
            await last.message.reply_text(text(key, lang))
            return
        finally:
            if drafts is not None:
                await drafts.finish()
    spoken = await say(svc, bot, character, line, reply_to=last.message.message_id)
    if spoken is None:  # forgotten (/forget) while it was answering
        return
    _follow(svc, context, place, character, spoken)


def _follow(
    svc: Services,
    context: ContextTypes.DEFAULT_TYPE,
    place: Place,
    character: CharacterRecord,
    spoken: SpokenLine,
) -> None:
    """The line's voice and video, in the background: nothing waits for them, not even this
    chat's next message."""
    svc.media.follow(
        context.application,
        place.chat_id,
        character.id,
        lambda ticket: voice_and_video(
            svc, context.bot, character, spoken, ticket, group=place.group
        ),
    )
