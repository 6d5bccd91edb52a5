"""Small things every handler asks: which language, which character, is this a group."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Chat, ChatMember, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.rows import active_key
from bot.services import services
from bot.texts import text
from inference.language import language_from_code
from inference.types import Language
from storage import queries
from storage.records import CharacterRecord

log = logging.getLogger(__name__)


def is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def display_name(message: Message) -> str:
    """Who wrote a message: the user's name, or the channel/anonymous admin's chat title."""
    if message.sender_chat is not None:
        return message.sender_chat.title or message.sender_chat.effective_name or "Admin"
    user = message.from_user
    return user.full_name if user is not None else "?"


def speaker_id(update: Update) -> int | None:
    """Who is speaking: the user, or for anonymous admins and channels, which write as
    Telegram's service accounts shared by every group, the chat they write for."""
    message = update.message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    user = update.effective_user
    return user.id if user is not None else None


def remember_language(context: ContextTypes.DEFAULT_TYPE, speaker: int, lang: str) -> None:
    """Cache a speaker's /lang choice; keyed by the speaker, as an anonymous admin's
    `user_data` is that of GroupAnonymousBot, shared by every group."""
    if context.user_data is not None:
        context.user_data["lang"] = (speaker, lang)


async def chosen_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Language | None:
    """The language the speaker (see `speaker_id`) chose with /lang; None when never chosen."""
    speaker = speaker_id(update)
    if speaker is None:
        return None
    cached = context.user_data.get("lang") if context.user_data is not None else None
    if isinstance(cached, tuple) and cached[0] == speaker and cached[1] in ("zh", "en"):
        return cast(Language, cached[1])
    async with services(context).sessions() as session:
        stored = await queries.get_user_language(session, speaker)
    if stored not in ("zh", "en"):
        return None
    remember_language(context, speaker, stored)
    return cast(Language, stored)


def telegram_language(update: Update) -> Language:
    """The language Telegram reports for the user's app."""
    user = update.effective_user
    return language_from_code(user.language_code if user is not None else None)


async def user_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Language:
    """The language chosen with /lang, else the one Telegram reports for the user."""
    return await chosen_language(update, context) or telegram_language(update)


def is_reply_to_bot(message: Message, bot_id: int) -> bool:
    reply = message.reply_to_message
    return reply is not None and reply.from_user is not None and reply.from_user.id == bot_id


@dataclass(frozen=True)
class Place:
    """Where an update happens and who sent it: the keys most queries need."""

    chat_id: int
    user_id: int
    group: bool

    @classmethod
    def of(cls, update: Update) -> Place:
        """The user is the speaker (`speaker_id`): the chat an anonymous admin or a channel
        writes for, not Telegram's service account."""
        chat = update.effective_chat
        assert chat is not None
        user_id = speaker_id(update)
        return cls(chat.id, chat.id if user_id is None else user_id, is_group(chat))

    @property
    def active(self) -> tuple[int, int]:
        return active_key(self.chat_id, self.user_id, group=self.group)


async def current_character(
    session: AsyncSession, place: Place, message: Message | None, bot_id: int
) -> CharacterRecord | None:
    """The character a message is for: the one whose message it replies to, else the active one."""
    if message is not None and is_reply_to_bot(message, bot_id):
        assert message.reply_to_message is not None
        found = await queries.character_for_telegram_message(
            session, place.chat_id, message.reply_to_message.message_id
        )
        if found is not None:
            return found
    return await queries.get_active_character(session, *place.active)


async def speaks_for(bot: Bot, place: Place, owner_id: int | None) -> bool:
    """Whether the sender may act as `owner_id` (share, reset, forget): they are that owner,
    or the owner is a chat (an anonymous admin or a channel wrote as it) they administer."""
    if owner_id == place.user_id:
        return True
    if owner_id is None or owner_id >= 0 or place.user_id < 0:  # chat ids are negative
        return False
    try:
        member = await bot.get_chat_member(owner_id, place.user_id)
    except TelegramError:  # not a chat the bot can see into: no way to tell
        log.info("could not check admins of chat %d", owner_id, exc_info=True)
        return False
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def sender(update: Update) -> User:
    user = update.effective_user
    assert user is not None
    return user


async def character_for_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: Language
) -> CharacterRecord | None:
    """The character a command is about (the one replied to, else the active one); when there
    is none, the user is told how to make one here."""
    message = update.effective_message
    assert message is not None
    async with services(context).sessions() as session:
        character = await current_character(session, Place.of(update), message, context.bot.id)
    if character is None:
        key = "talk_needs_photo" if Place.of(update).group else "no_character"
        await message.reply_text(text(key, lang))
    return character


async def is_group_admin(bot: Bot, message: Message, place: Place) -> bool:
    """Whether the sender administers the group; only admins can post as the group itself."""
    if message.sender_chat is not None:
        # Anonymous admins and channels have no membership to ask getChatMember about.
        return message.sender_chat.id == place.chat_id
    member = await bot.get_chat_member(place.chat_id, place.user_id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
