"""The long-lived things every handler needs, created in post_init and kept in bot_data."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ContextTypes

from bot.chat_queues import ChatQueues
from bot.faceless import FacelessPhotos
from bot.forgetting import Forgotten
from bot.limits import UserLimits
from bot.sending.media_order import MediaOrder
from bot.settings import Settings
from inference.actor import Actor


@dataclass
class Services:
    settings: Settings
    actor: Actor
    sessions: async_sessionmaker[AsyncSession]
    limits: UserLimits
    chats: ChatQueues
    bot_username: str
    # Voices, pictures and videos on their way, per chat in order; /forget stops them.
    media: MediaOrder = field(default_factory=MediaOrder)
    # When users said /forget: a character still being made for them is not kept.
    forgotten: Forgotten = field(default_factory=Forgotten)
    # Updates handed again to the bot at start (bot/recovery.py) -> times seen since.
    replayed: dict[int, int] = field(default_factory=dict)
    faceless: FacelessPhotos = field(default_factory=FacelessPhotos)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The application's services (set up by post_init)."""
    found: Services = context.bot_data["services"]
    return found
