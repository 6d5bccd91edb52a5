"""The talking picture: drawn, sent as a reply to its line, and linked to the line's turn."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from PIL import Image
from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.failures import failure_key
from bot.rows import persona_of
from bot.sending.bot_api import action_while_slow, send_picture, send_text
from bot.sending.media_order import Ticket
from bot.sending.sent import remember_sent
from bot.sending.status import StatusMessage
from bot.services import Services
from bot.texts import text
from inference.errors import InferenceError
from inference.types import Language, Speech
from storage.records import CharacterRecord

if TYPE_CHECKING:
    from bot.sending.lines import SpokenLine

log = logging.getLogger(__name__)


async def draw_picture(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    image: Image.Image,
    line: SpokenLine,
    *,
    lang: Language,
    status: StatusMessage | None = None,
    ticket: Ticket | None = None,
    speech: Speech | None = None,
) -> None:
    """Draw the character saying `line` (lip-synced to `speech`, when given and there is a
    lip-sync model) and send it as a reply to the line's message (in its turn, with a
    `ticket`: after the chat's earlier pictures).

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
                image, persona_of(character), line.text, speech=speech, chat_key=chat_id
            )
        async with ticket.turn("picture") if ticket else contextlib.nullcontext():
            if picture.flagged:
                await send_text(bot, chat_id, text("picture_withheld", lang), reply_to=reply_to)
            else:
                sent = await send_picture(bot, chat_id, picture.jpeg, reply_to=reply_to)
                await remember_sent(svc, line.turn_id, "picture", [sent])
        await status.update(text("status_done", lang, name=character.persona_name))
    except InferenceError as exc:
        log.warning("talking picture failed: %s", exc)
        await status.fail(text(failure_key(exc), lang))
    except TelegramError as exc:
        log.warning("could not send the talking picture of character %d: %s", character.id, exc)
        await status.fail(text("picture_not_sent", lang))
