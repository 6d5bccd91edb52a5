"""Voice notes, audio files and video notes from users: heard, then answered like text."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, replace
from datetime import timedelta

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot.chat_queues import Arrival
from bot.downloads import download
from bot.failures import failure_key
from bot.handlers.common import Place, is_reply_to_bot, user_language
from bot.sending.bot_api import action_while_slow
from bot.services import services
from bot.texts import text
from inference.errors import AudioTooLong, BadAudio, InferenceError, Unheard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recording:
    """The file to download for a voice note, audio file or video note, as Telegram declares it."""

    file_id: str
    file_size: int | None
    duration_s: int


def recording_of(message: Message) -> Recording | None:
    """The voice note, audio file or round video note a message carries, if any."""
    media = message.voice or message.audio or message.video_note
    if media is None:
        return None
    with warnings.catch_warnings():  # PTB 22 warns that `duration` will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = media.duration
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    return Recording(media.file_id, media.file_size, math.ceil(seconds))


async def on_voice_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice note, audio file or video note: what was said is answered like text."""
    message = update.effective_message
    assert message is not None
    svc, bot, place = services(context), context.bot, Place.of(update)
    if place.group and not is_reply_to_bot(message, bot.id):
        return  # in groups we only listen to what answers a character
    recording = recording_of(message)
    assert recording is not None
    limit = svc.settings.max_voice_seconds
    if not svc.actor.can_listen:
        key = "voice"
    elif recording.duration_s > limit:  # declined before any download
        key = "voice_too_long"
    elif recording.file_size is not None and recording.file_size > svc.settings.max_download_bytes:
        key = "voice_too_big"
    else:
        # It joins the chat's line now, before any await, in the order it came: a text sent
        # after it waits for it.
        await svc.chats.serve(place.chat_id, Arrival(update, context, "", recording=recording))
        return
    await message.reply_text(text(key, await user_language(update, context), seconds=limit))


async def hear(arrival: Arrival) -> Arrival | None:
    """The arrival with what its voice note said (its turn in the line has come); None when
    it could not be heard, and its sender has been told why."""
    assert arrival.recording is not None
    update, context, message = arrival.update, arrival.context, arrival.message
    svc, bot, place = services(context), context.bot, Place.of(update)
    lang = await user_language(update, context)
    limit = svc.settings.max_voice_seconds
    try:
        async with svc.limits.job(place.user_id), action_while_slow(bot, place.chat_id):
            # The audio lives only in memory, for as long as this takes: only the words stay.
            audio = await download(bot, arrival.recording.file_id)
            heard = await svc.actor.transcribe(audio, chat_key=place.chat_id)
    except TelegramError as exc:
        log.warning("voice note download failed: %s", exc)
        await message.reply_text(text("voice_download_failed", lang))
        return None
    except AudioTooLong:
        await message.reply_text(text("voice_too_long", lang, seconds=limit))
        return None
    except BadAudio as exc:
        log.info("unreadable voice note: %s", exc)
        await message.reply_text(text("voice_unreadable", lang))
        return None
    except Unheard:
        await message.reply_text(text("voice_unheard", lang))
        return None
    except InferenceError as exc:
        await message.reply_text(text(failure_key(exc), lang))
        return None
    if svc.settings.log_message_text:
        log.info("chat %d user %d said (voice): %s", place.chat_id, place.user_id, heard.text)
    return replace(arrival, said=heard.text, spoken=True, heard=heard.language, recording=None)
