"""The character says its line: a voice message replying to the text, in the chat's voice
setting and the character's own voice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.rows import persona_of
from bot.sending.bot_api import action_while_slow, send_voice
from bot.sending.media_order import Ticket
from bot.sending.sent import remember_sent
from bot.services import Services
from inference.errors import InferenceError
from inference.types import Speech
from storage import queries
from storage.errors import NotFound
from storage.records import CharacterRecord, ChatSettingsRecord

if TYPE_CHECKING:
    from bot.sending.lines import SpokenLine

log = logging.getLogger(__name__)


def voice_is_on(chosen: ChatSettingsRecord, *, group: bool) -> bool:
    """/voice as the chat chose it; never chosen: on in private chats, off in groups."""
    return chosen.voice if chosen.voice is not None else not group


async def speak_line(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    line: SpokenLine,
    *,
    group: bool,
    ticket: Ticket,
) -> Speech | None:
    """After the text line: the character says it, as a voice message replying to the line,
    sent in its turn (`ticket`: after the chat's earlier voices).

    Returns the Speech (the talking video reuses it), or None when the chat has voice off,
    there is no speech model, or it failed (the text is already there: nothing is lost).
    """
    if not svc.actor.can_speak or not any(ch.isalnum() for ch in line.text):
        return None
    async with svc.sessions() as session:
        chosen = await queries.get_chat_settings(session, character.chat_id)
    if not voice_is_on(chosen, group=group):
        return None
    voice = character.voice
    if voice is None:  # chosen once, from what the caption model saw, then kept
        voice = svc.actor.voice_for(character.description, persona_of(character).language)
        try:
            async with svc.sessions() as session, session.begin():
                await queries.set_character_voice(session, character.id, voice)
        except NotFound:  # forgotten (/forget) meanwhile: nothing to say it with
            return None
    try:
        async with action_while_slow(bot, character.chat_id, ChatAction.RECORD_VOICE, after_s=0):
            speech = await svc.actor.speak(line.text, voice, chat_key=character.chat_id)
    except InferenceError as exc:
        log.warning("character %d's voice failed: %s", character.id, exc)
        return None
    async with ticket.turn("voice"):
        try:
            sent = await send_voice(
                bot, character.chat_id, speech.ogg_opus, duration_s=speech.duration_s,
                reply_to=line.message_id,
            )  # fmt: skip
        except TelegramError:
            log.exception("could not send character %d's voice", character.id)
            return speech
    await remember_sent(svc, line.turn_id, "voice", [sent])
    return speech
