"""The long-lived things every handler needs, created in post_init and kept in bot_data."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ContextTypes

from bot.chat_queues import ChatQueues
from bot.faceless import FacelessPhotos
from bot.limits import UserLimits
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
    faceless: FacelessPhotos = field(default_factory=FacelessPhotos)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The application's services (set up by post_init)."""
    found: Services = context.bot_data["services"]
    return found
