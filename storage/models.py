"""ORM models: users, their characters, the conversation turns and the active choice per chat."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utc_now
from storage.records import SentKind

ROLE_USER = "user"
ROLE_CHARACTER = "character"
GROUP_WIDE_USER_ID = 0
"""`ActiveCharacter.user_id` for the choice shared by a whole group."""


class User(Base):
    """A Telegram user who has talked to the bot."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(Text)
    # 'zh' / 'en' once chosen with /lang; None: never chosen (the bot goes by Telegram's
    # language_code for its own words, and answers in the language of each message).
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Character(Base):
    """The person in one photo, as made in one chat. Photos stay on Telegram (file_id only)."""

    __tablename__ = "characters"
    __table_args__ = (
        Index("ix_characters_chat_id_id", "chat_id", "id"),
        Index("ix_characters_owner_id", "owner_id"),
        Index("ix_characters_photo_author_id", "photo_author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # None once its creator used /forget and the character lives on in a group (someone
    # else's photo, other people's conversation).
    owner_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE")
    )
    photo_file_id: Mapped[str] = mapped_column(Text)
    # Who sent the photo (the creator, or whoever posted the photo /talk replied to); copies
    # keep the original's. /forget by that person deletes every character made from it.
    photo_author_id: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    persona_name: Mapped[str] = mapped_column(Text)
    persona_traits: Mapped[str] = mapped_column(Text)
    persona_style: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    share_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A copy opened from someone's share link; the copy survives its source being forgotten.
    source_character_id: Mapped[int | None] = mapped_column(
        ForeignKey("characters.id", ondelete="SET NULL")
    )
    # The voice the speech model uses for this character, chosen once (None: not chosen yet).
    voice: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Message(Base):
    """One turn of a conversation with a character (a user's line or the character's)."""

    __tablename__ = "messages"
    __table_args__ = (
        # last_turns: ORDER BY id DESC LIMIT n within one character.
        Index("ix_messages_character_id_id", "character_id", "id"),
        # Reply routing: which character does this Telegram message belong to?
        Index("ix_messages_chat_id_telegram_message_id", "chat_id", "telegram_message_id"),
        # forget_user / forget_user_in_chat without scanning every message.
        Index("ix_messages_author_id_chat_id", "author_id", "chat_id"),
        # Retention: turns older than HISTORY_RETENTION_DAYS without reading them all.
        Index("ix_messages_created_at", "created_at"),
        CheckConstraint(f"role IN ('{ROLE_USER}', '{ROLE_CHARACTER}')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    character_id: Mapped[int] = mapped_column(ForeignKey("characters.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # None for the character's own turns.
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The user said it in a voice note (the text is its transcript; the audio is not kept).
    spoken: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


SENT_KINDS: tuple[str, ...] = get_args(SentKind)
"""What a sent message carried: a piece of a line's text, its voice, a talking picture, or
its talking video (a video note, a video or an animation)."""


class SentMessage(Base):
    """A Telegram message the bot sent for a character's turn (every piece of its text, its
    voice, each talking picture, its video): replies to any of them route to its character."""

    __tablename__ = "sent_messages"
    __table_args__ = (
        # Reply routing. Not unique: a group's ids start again in its supergroup.
        Index("ix_sent_messages_chat_id_telegram_message_id", "chat_id", "telegram_message_id"),
        # Deleting turns (retention, /forget, /reset) finds what they sent.
        Index("ix_sent_messages_message_id", "message_id"),
        CheckConstraint(f"kind IN {SENT_KINDS}", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))


class ActiveCharacter(Base):
    """Which character answers un-addressed text: per user in private chats, per group."""

    __tablename__ = "active_characters"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # GROUP_WIDE_USER_ID (0) = the whole group.
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    character_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )


class ChatSettings(Base):
    """What a chat chose with /voice and /video; NULL = not chosen (default by chat type)."""

    __tablename__ = "chat_settings"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    voice: Mapped[bool | None] = mapped_column(Boolean)
    video: Mapped[bool | None] = mapped_column(Boolean)


class Arrival(Base):
    """A message taken from Telegram (Telegram considers it delivered) and not yet answered:
    kept until it is, so a crash or a kill loses nothing (answered again after a restart)."""

    __tablename__ = "arrivals"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The sender (for /forget); None for updates without one.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)
    # The update as Telegram sent it (JSON), to be handled again as it came.
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
