"""Stickers, voice, video and other files: a short explanation instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import Place, is_reply_to_bot, user_language
from bot.texts import text


def media_text_key(update: Update) -> str:
    """Which explanation fits the kind of media that arrived."""
    message = update.effective_message
    assert message is not None
    if message.sticker is not None:
        return "sticker"
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        return "voice"
    if message.video is not None or message.animation is not None:
        return "animated"
    return "unsupported_media"


async def on_other_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Media we cannot bring to life: say what we can do instead."""
    message = update.effective_message
    assert message is not None
    if Place.of(update).group and not is_reply_to_bot(message, context.bot.id):
        return
    lang = await user_language(update, context)
    await message.reply_text(text(media_text_key(update), lang))
