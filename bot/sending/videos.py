"""The talking video of a line: a round video note in private chats, a video in groups."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PIL import Image
from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.downloads import load_photo
from bot.rows import persona_of
from bot.sending.bot_api import action_while_slow, send_video
from bot.sending.media_order import Ticket
from bot.sending.sent import remember_sent
from bot.services import Services
from inference.errors import InferenceError
from inference.types import Speech
from storage import queries
from storage.records import CharacterRecord

if TYPE_CHECKING:
    from bot.sending.lines import SpokenLine

log = logging.getLogger(__name__)


async def video_wanted(svc: Services, chat_id: int, *, group: bool) -> bool:
    """/video's choice for the chat; never chosen: on in private chats, off in groups."""
    if not svc.settings.animates:
        return False  # no image model and no lip sync: no mouth to move
    async with svc.sessions() as session:
        choice = (await queries.get_chat_settings(session, chat_id)).video
    return not group if choice is None else choice


async def send_talking_video(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    line: SpokenLine,
    *,
    group: bool,
    ticket: Ticket,
    speech: Speech | None = None,
    image: Image.Image | None = None,
) -> None:
    """The character saying `line`: a round video note in private chats, a video (with the
    voice) or a silent animation in groups, sent in its turn (after the chat's earlier
    videos). Comes last and never raises: a video that cannot be made costs nothing already
    sent. `image`: the photo, downloaded again when None."""
    chat_id, photo_id = character.chat_id, character.photo_file_id
    try:
        if not svc.actor.can_animate(voice=speech is not None) or photo_id in svc.faceless:
            return
        if not await video_wanted(svc, chat_id, group=group):
            return
        action = ChatAction.RECORD_VIDEO if group else ChatAction.RECORD_VIDEO_NOTE
        async with action_while_slow(bot, chat_id, action, after_s=0):
            if image is None:
                image = await load_photo(bot, svc.actor, photo_id)
            if await svc.actor.face_of(image) is None:
                svc.faceless.add(photo_id)  # the next lines skip the download and the search
                return
            video = await svc.actor.talking_video(
                image, persona_of(character), line.text, speech, square=not group, chat_key=chat_id
            )
        if video is not None:  # None: flagged by the safety checker
            async with ticket.turn("video"):
                sent = await send_video(
                    bot, chat_id, video, note=not group, reply_to=line.message_id
                )
            await remember_sent(svc, line.turn_id, "video", [sent])
    except InferenceError as exc:
        log.warning("talking video of character %d failed: %s", character.id, exc)
    except TelegramError:
        log.exception("could not send the talking video of character %d", character.id)
