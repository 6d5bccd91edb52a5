"""Getting a photo's pixels back from Telegram (we keep only its file_id)."""

from __future__ import annotations

from PIL import Image
from telegram import Bot

from bot.sending.bot_api import retrying
from inference.actor import Actor


async def download(bot: Bot, file_id: str) -> bytes:
    """The bytes of a file Telegram keeps for us (retrying transient faults; getFile is
    retried by the bot's RetryingRateLimiter, the download itself here)."""
    telegram_file = await bot.get_file(file_id)
    return bytes(await retrying(telegram_file.download_as_bytearray, reads_only=True))


async def load_photo(bot: Bot, actor: Actor, file_id: str) -> Image.Image:
    """Download and safely decode a photo; raises TelegramError or BadImage."""
    return await actor.decode(await download(bot, file_id))
