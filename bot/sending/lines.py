"""A character's line reaches the chat: stored first, so nothing is lost, then sent; and what
follows a first line (its voice, picture and video)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from PIL import Image
from telegram import Bot, Message
from telegram.error import TelegramError

from bot.sending.bot_api import send_text
from bot.sending.pictures import draw_picture
from bot.sending.status import StatusMessage
from bot.sending.videos import send_talking_video
from bot.sending.voices import speak_line
from bot.services import Services
from inference.types import Language
from storage import queries
from storage.errors import NotFound
from storage.records import CharacterRecord

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


async def voice_picture_video(
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
    """After a first line: its voice, the talking picture, then the talking video (with that
    voice as its sound), each sent when ready."""
    speech = await speak_line(svc, bot, character, line, group=group)
    await draw_picture(svc, bot, character, image, line, lang=lang, status=status, speech=speech)
    await send_talking_video(svc, bot, character, line, group=group, speech=speech, image=image)
