"""How a character's words and pictures reach the chat, stored first so nothing is lost."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from PIL import Image
from telegram import Bot, Message
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.conversation import persona_of
from bot.failures import failure_key
from bot.sending import StatusMessage, action_while_slow, send_picture, send_text, send_voice
from bot.services import Services
from bot.texts import text
from inference.errors import InferenceError
from inference.types import Language, Speech
from storage import queries
from storage.errors import NotFound
from storage.records import CharacterRecord, ChatSettingsRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpokenLine:
    """A stored character turn and, when Telegram took it, the message that carries it."""

    turn_id: int
    text: str
    message: Message | None

    @property
    def message_id(self) -> int | None:
        return self.message.message_id if self.message is not None else None


async def say(
    svc: Services, bot: Bot, character: CharacterRecord, line: str, *, reply_to: int | None
) -> SpokenLine | None:
    """Store the character's turn, send it, then remember its Telegram id for reply routing.

    The turn is committed before sending: if Telegram fails for good, the conversation is
    still whole and the line can be drawn again with /image. None when the character was
    forgotten (/forget) while its line was being written: nothing is stored or sent.
    """
    try:
        async with svc.sessions() as session, session.begin():
            turn = await queries.add_message(
                session,
                character_id=character.id,
                chat_id=character.chat_id,
                author_id=None,
                author_name=character.persona_name,
                role="character",
                text=line,
            )
    except NotFound:
        log.info("character %d was forgotten before its line was said", character.id)
        return None
    try:
        sent = await send_text(bot, character.chat_id, line, reply_to=reply_to)
    except TelegramError:
        log.exception("could not send character %d's line; it is stored", character.id)
        return SpokenLine(turn.id, line, None)
    with contextlib.suppress(NotFound):  # cleared by /reset meanwhile: nothing to link
        async with svc.sessions() as session, session.begin():
            await queries.set_telegram_message_id(session, turn.id, sent.message_id)
    return SpokenLine(turn.id, line, sent)


async def draw_picture(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    image: Image.Image,
    line: SpokenLine,
    *,
    lang: Language,
    status: StatusMessage | None = None,
) -> None:
    """Draw the character saying `line` and send it as a reply to the line's message.

    Whatever happens, the status note ends ("done", or what went wrong): /reset or /forget
    meanwhile only means the picture is not linked to a turn that no longer exists.
    """
    chat_id, reply_to = character.chat_id, line.message_id
    if status is None:
        status = StatusMessage(bot, chat_id, None, reply_to)
    try:
        await status.update(text("status_drawing", lang))
        async with action_while_slow(bot, chat_id, ChatAction.UPLOAD_PHOTO, after_s=0):
            picture = await svc.actor.talking_image(
                image, persona_of(character), line.text, chat_key=chat_id
            )
        if picture.flagged:
            await send_text(bot, chat_id, text("picture_withheld", lang), reply_to=reply_to)
        else:
            sent = await send_picture(bot, chat_id, picture.jpeg, reply_to=reply_to)
            try:
                async with svc.sessions() as session, session.begin():
                    await queries.add_picture(session, line.turn_id, sent.message_id)
            except NotFound:
                log.info("turn %d was cleared while its picture was drawn", line.turn_id)
        await status.update(text("status_done", lang, name=character.persona_name))
    except InferenceError as exc:
        log.warning("talking picture failed: %s", exc)
        await status.fail(text(failure_key(exc), lang))
    except TelegramError as exc:
        log.warning("could not send the talking picture of character %d: %s", character.id, exc)
        await status.fail(text("picture_not_sent", lang))


def voice_is_on(chosen: ChatSettingsRecord, *, group: bool) -> bool:
    """/voice as the chat chose it; never chosen: on in private chats, off in groups."""
    return chosen.voice if chosen.voice is not None else not group


async def speak_line(
    svc: Services, bot: Bot, character: CharacterRecord, line: SpokenLine, *, group: bool
) -> Speech | None:
    """After the text line: the character says it, as a voice message replying to the line.

    Returns the Speech it sent (the talking video reuses it), or None when the chat has voice
    off, there is no speech model, or it failed (the text is already there: nothing is lost).
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
        await send_voice(
            bot, character.chat_id, speech.ogg_opus, duration_s=speech.duration_s,
            reply_to=line.message_id,
        )  # fmt: skip
    except InferenceError as exc:
        log.warning("character %d's voice failed: %s", character.id, exc)
        return None
    except TelegramError:
        log.exception("could not send character %d's voice", character.id)
        return None
    return speech


async def voice_then_picture(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    image: Image.Image,
    line: SpokenLine,
    *,
    lang: Language,
    group: bool,
    status: StatusMessage | None = None,
) -> None:
    """After a first line: its voice, then the talking picture, each sent when ready."""
    await speak_line(svc, bot, character, line, group=group)
    await draw_picture(svc, bot, character, image, line, lang=lang, status=status)
