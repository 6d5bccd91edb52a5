"""A character's line reaches the chat: stored first, so nothing is lost, then sent; and what
follows a first line (its voice, picture and video)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from PIL import Image
from telegram import Bot, Message
from telegram.error import TelegramError

from bot.sending.bot_api import send_pieces
from bot.sending.media_order import Ticket
from bot.sending.pictures import draw_picture
from bot.sending.sent import remember_sent
from bot.sending.status import StatusMessage
from bot.sending.videos import send_talking_video
from bot.sending.voices import speak_line
from bot.services import Services
from bot.texts import text
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
    """Store the character's turn, send it, then remember its Telegram ids for reply routing.

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
    return await deliver(svc, bot, character, turn.id, line, reply_to=reply_to)


async def deliver(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    turn_id: int,
    line: str,
    *,
    reply_to: int | None,
) -> SpokenLine:
    """Send a stored line (just written, or written before a restart cut its sending short),
    then remember its Telegram ids for reply routing."""
    try:
        pieces = await send_pieces(bot, character.chat_id, line, reply_to=reply_to)
    except TelegramError:
        log.exception("could not send character %d's line; it is stored", character.id)
        return SpokenLine(turn_id, line, None)
    with contextlib.suppress(NotFound):  # cleared by /reset meanwhile: nothing to link
        async with svc.sessions() as session, session.begin():
            await queries.set_telegram_message_id(session, turn_id, pieces[0].message_id)
    await remember_sent(svc, turn_id, "text", pieces)
    return SpokenLine(turn_id, line, pieces[0])


async def voice_and_video(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    line: SpokenLine,
    ticket: Ticket,
    *,
    group: bool,
) -> None:
    """After a reply: its voice, then its talking video (with that voice as its sound)."""
    speech = await speak_line(svc, bot, character, line, group=group, ticket=ticket)
    await send_talking_video(svc, bot, character, line, group=group, ticket=ticket, speech=speech)


async def voice_picture_video(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    image: Image.Image,
    line: SpokenLine,
    ticket: Ticket,
    *,
    lang: Language,
    group: bool,
    status: StatusMessage | None = None,
) -> None:
    """After a first line: its voice, the talking picture, then the talking video (with that
    voice as its sound), each sent when ready and in its turn. Stopped by /reset or /forget,
    the status note says so instead of staying on "drawing"."""
    try:
        speech = await speak_line(svc, bot, character, line, group=group, ticket=ticket)
        await draw_picture(
            svc, bot, character, image, line, lang=lang, status=status, ticket=ticket, speech=speech
        )
        await send_talking_video(
            svc, bot, character, line, group=group, ticket=ticket, speech=speech, image=image
        )
    except asyncio.CancelledError:
        if status is not None:
            await status.update(text("status_stopped", lang))
        raise
