"""Conversation turns: appending, what the bot sent for them (reply routing), history, clearing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utc_now
from storage.errors import NotFound
from storage.models import (
    ROLE_CHARACTER,
    ROLE_USER,
    Character,
    Message,
    SentMessage,
)
from storage.queries._common import character_record, message_record, rowcount
from storage.records import CharacterRecord, MessageRecord, Role, SentKind


async def add_message(
    session: AsyncSession,
    *,
    character_id: int,
    chat_id: int,
    author_id: int | None,
    author_name: str,
    role: Role,
    text: str,
    telegram_message_id: int | None = None,
    spoken: bool = False,
) -> MessageRecord:
    """Append one turn to a character's conversation; NotFound when the character is gone
    (forgotten while its line was being written)."""
    if role not in (ROLE_USER, ROLE_CHARACTER):
        raise ValueError(f"role must be 'user' or 'character', not {role!r}")
    if await session.get(Character, character_id) is None:
        raise NotFound(f"character {character_id}")
    message = Message(
        character_id=character_id,
        chat_id=chat_id,
        author_id=author_id,
        author_name=author_name,
        role=role,
        text=text,
        telegram_message_id=telegram_message_id,
        spoken=spoken,
        created_at=utc_now(),
    )
    session.add(message)
    await session.flush()
    return message_record(message)


async def set_telegram_message_id(
    session: AsyncSession, message_id: int, telegram_message_id: int
) -> None:
    """Link a stored turn to the Telegram message that carried it (known only after sending)."""
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(telegram_message_id=telegram_message_id)
    )
    if rowcount(result) == 0:
        raise NotFound(f"message {message_id}")


async def add_sent_messages(
    session: AsyncSession, message_id: int, kind: SentKind, telegram_message_ids: Sequence[int]
) -> None:
    """Link a character's turn to Telegram messages that carried it (`kind`: every piece of
    its text, its voice, a talking picture, its video), so replies to any of them route.

    Raises NotFound when the turn is gone (/reset or /forget while it was being sent).
    """
    turn = await session.get(Message, message_id)
    if turn is None:
        raise NotFound(f"message {message_id}")
    session.add_all(
        SentMessage(
            message_id=message_id, chat_id=turn.chat_id, telegram_message_id=sent, kind=kind
        )
        for sent in telegram_message_ids
    )
    await session.flush()


async def character_for_telegram_message(
    session: AsyncSession, chat_id: int, telegram_message_id: int
) -> CharacterRecord | None:
    """The character whose conversation holds this Telegram message (reply-to routing): one
    the bot sent for a character's line, or a user's stored turn."""
    by_sent = (
        select(Character)
        .join(Message, Message.character_id == Character.id)
        .join(SentMessage, SentMessage.message_id == Message.id)
        .where(
            SentMessage.chat_id == chat_id, SentMessage.telegram_message_id == telegram_message_id
        )
    )
    by_turn = (
        select(Character)
        .join(Message, Message.character_id == Character.id)
        .where(Message.chat_id == chat_id, Message.telegram_message_id == telegram_message_id)
    )
    # One indexed lookup each: with an OR, SQLite would scan the whole chat instead. Ids can
    # repeat after a group became a supergroup: the newest wins (in each index's own order).
    for query in (by_sent.order_by(SentMessage.id.desc()), by_turn.order_by(Message.id.desc())):
        character = await session.scalar(query.limit(1))
        if character is not None:
            return character_record(character)
    return None


async def last_turns(
    session: AsyncSession, character_id: int, limit: int, before_id: int | None = None
) -> list[MessageRecord]:
    """The newest `limit` turns (before the turn `before_id`, if given), oldest first: the
    prompt's history."""
    if limit <= 0:
        return []
    # Newest-first over the (character_id, id) index reads only `limit` rows, whatever the
    # history's length; reversing here is cheaper than a subquery.
    query = select(Message).where(Message.character_id == character_id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    rows = await session.scalars(query.order_by(Message.id.desc()).limit(limit))
    return [message_record(row) for row in reversed(rows.all())]


async def user_turns_for(
    session: AsyncSession, chat_id: int, telegram_message_ids: list[int]
) -> list[MessageRecord]:
    """The user turns already stored for these Telegram messages (an answer that a restart
    cut short stored them), oldest first."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.chat_id == chat_id,
            Message.role == ROLE_USER,
            Message.telegram_message_id.in_(telegram_message_ids),
        )
        .order_by(Message.id)
    )
    return [message_record(row) for row in rows]


async def unsent_line_after(
    session: AsyncSession, character_id: int, turn_id: int
) -> MessageRecord | None:
    """The character's line written after `turn_id` but never confirmed as sent, if any."""
    message = await session.scalar(
        select(Message)
        .where(
            Message.character_id == character_id,
            Message.role == ROLE_CHARACTER,
            Message.id > turn_id,
            Message.telegram_message_id.is_(None),
        )
        .order_by(Message.id)
        .limit(1)
    )
    return None if message is None else message_record(message)


async def last_character_turn(session: AsyncSession, character_id: int) -> MessageRecord | None:
    """The character's most recent line, if it has spoken."""
    message = await session.scalar(
        select(Message)
        .where(Message.character_id == character_id, Message.role == ROLE_CHARACTER)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return None if message is None else message_record(message)


async def delete_turns(session: AsyncSession, message_ids: list[int]) -> int:
    """Take back stored turns (a message that was not answered); returns turns deleted."""
    if not message_ids:
        return 0
    result = await session.execute(delete(Message).where(Message.id.in_(message_ids)))
    return rowcount(result)


async def clear_history(session: AsyncSession, character_id: int) -> int:
    """Forget one character's conversation (the character stays); returns turns deleted."""
    result = await session.execute(delete(Message).where(Message.character_id == character_id))
    return rowcount(result)
