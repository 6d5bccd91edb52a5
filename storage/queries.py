"""Everything the bot asks of the database.

Each function takes the session first and never commits: the caller owns the transaction
(`async with session.begin(): ...`). Results are records, never ORM rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utc_now
from storage.errors import NotFound, ShareCodeTaken
from storage.models import (
    GROUP_WIDE_USER_ID,
    ROLE_CHARACTER,
    ROLE_USER,
    ActiveCharacter,
    Character,
    Message,
    User,
)
from storage.records import CharacterRecord, MessageRecord, Role, Stats

__all__ = [
    "GROUP_WIDE_USER_ID",
    "add_message",
    "character_by_share_code",
    "character_for_telegram_message",
    "clear_history",
    "create_character",
    "forget_user",
    "forget_user_in_chat",
    "get_active_character",
    "get_character",
    "get_user_language",
    "last_character_turn",
    "last_turns",
    "migrate_chat",
    "prune_messages_before",
    "recent_characters",
    "set_active_character",
    "set_picture_message_id",
    "set_share_code",
    "set_telegram_message_id",
    "set_user_language",
    "stats",
    "upsert_user",
]


# --- users -----------------------------------------------------------------------------


async def upsert_user(
    session: AsyncSession, user_id: int, display_name: str, language_hint: str | None = None
) -> None:
    """Record a user (or their new display name); `language_hint` only fills an unset language."""
    insert = _insert_for(session)
    statement = insert(User).values(
        id=user_id, display_name=display_name, language=language_hint, created_at=utc_now()
    )
    # ON CONFLICT, not read-then-write: two updates from one user can race on first contact.
    statement = statement.on_conflict_do_update(
        index_elements=[User.id],
        set_={
            "display_name": statement.excluded.display_name,
            "language": func.coalesce(User.language, statement.excluded.language),
        },
    )
    await session.execute(statement)


async def get_user_language(session: AsyncSession, user_id: int) -> str | None:
    """The user's language, or None when unknown (or the user is unknown)."""
    return await session.scalar(select(User.language).where(User.id == user_id))


async def set_user_language(session: AsyncSession, user_id: int, language: str) -> None:
    """Store the language the user chose with /lang."""
    result = await session.execute(update(User).where(User.id == user_id).values(language=language))
    if _rowcount(result) == 0:
        raise NotFound(f"user {user_id}")


# --- characters ------------------------------------------------------------------------


async def create_character(
    session: AsyncSession,
    *,
    chat_id: int,
    owner_id: int,
    photo_file_id: str,
    description: str,
    persona_name: str,
    persona_traits: str,
    persona_style: str,
    language: str,
    source_character_id: int | None = None,
) -> CharacterRecord:
    """Store a new character (the owner must exist: call `upsert_user` first)."""
    character = Character(
        chat_id=chat_id,
        owner_id=owner_id,
        photo_file_id=photo_file_id,
        description=description,
        persona_name=persona_name,
        persona_traits=persona_traits,
        persona_style=persona_style,
        language=language,
        source_character_id=source_character_id,
        created_at=utc_now(),
    )
    session.add(character)
    await session.flush()
    return _character_record(character)


async def get_character(session: AsyncSession, character_id: int) -> CharacterRecord | None:
    """The character with this id, if it still exists."""
    character = await session.get(Character, character_id)
    return None if character is None else _character_record(character)


async def recent_characters(
    session: AsyncSession, chat_id: int, limit: int = 10
) -> list[CharacterRecord]:
    """The chat's newest characters first (for /characters)."""
    rows = await session.scalars(
        select(Character)
        .where(Character.chat_id == chat_id)
        .order_by(Character.id.desc())
        # Characters are never re-dated, so id order is creation order (and indexed).
        .limit(limit)
    )
    return [_character_record(row) for row in rows]


async def set_active_character(
    session: AsyncSession, chat_id: int, user_id: int, character_id: int
) -> None:
    """Make `character_id` answer un-addressed text from `user_id` (0: the whole group)."""
    insert = _insert_for(session)
    statement = insert(ActiveCharacter).values(
        chat_id=chat_id, user_id=user_id, character_id=character_id
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ActiveCharacter.chat_id, ActiveCharacter.user_id],
        set_={"character_id": statement.excluded.character_id},
    )
    await session.execute(statement)


async def get_active_character(
    session: AsyncSession, chat_id: int, user_id: int
) -> CharacterRecord | None:
    """The character chosen for (chat, user); user 0 is the group-wide choice."""
    character = await session.scalar(
        select(Character)
        .join(ActiveCharacter, ActiveCharacter.character_id == Character.id)
        .where(ActiveCharacter.chat_id == chat_id, ActiveCharacter.user_id == user_id)
    )
    return None if character is None else _character_record(character)


async def set_share_code(session: AsyncSession, character_id: int, code: str | None) -> None:
    """Give the character a share code, or revoke it with None."""
    if code is not None:
        holder = await session.scalar(
            select(Character.id).where(Character.share_code == code, Character.id != character_id)
        )
        if holder is not None:
            raise ShareCodeTaken(code)
    result = await session.execute(
        update(Character).where(Character.id == character_id).values(share_code=code)
    )
    if _rowcount(result) == 0:
        raise NotFound(f"character {character_id}")


async def character_by_share_code(session: AsyncSession, code: str) -> CharacterRecord | None:
    """The character a share link points at, unless the code was revoked."""
    character = await session.scalar(select(Character).where(Character.share_code == code))
    return None if character is None else _character_record(character)


# --- messages --------------------------------------------------------------------------


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
) -> MessageRecord:
    """Append one turn to a character's conversation."""
    if role not in (ROLE_USER, ROLE_CHARACTER):
        raise ValueError(f"role must be 'user' or 'character', not {role!r}")
    message = Message(
        character_id=character_id,
        chat_id=chat_id,
        author_id=author_id,
        author_name=author_name,
        role=role,
        text=text,
        telegram_message_id=telegram_message_id,
        created_at=utc_now(),
    )
    session.add(message)
    await session.flush()
    return _message_record(message)


async def set_telegram_message_id(
    session: AsyncSession, message_id: int, telegram_message_id: int
) -> None:
    """Link a stored turn to the Telegram message that carried it (known only after sending)."""
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(telegram_message_id=telegram_message_id)
    )
    if _rowcount(result) == 0:
        raise NotFound(f"message {message_id}")


async def set_picture_message_id(
    session: AsyncSession, message_id: int, picture_message_id: int
) -> None:
    """Link a character's turn to the talking picture sent for it, so replies to it route."""
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(picture_message_id=picture_message_id)
    )
    if _rowcount(result) == 0:
        raise NotFound(f"message {message_id}")


async def character_for_telegram_message(
    session: AsyncSession, chat_id: int, telegram_message_id: int
) -> CharacterRecord | None:
    """The character whose conversation holds this Telegram message (reply-to routing).

    The message may be a stored turn or the talking picture sent as a reply to one.
    """
    # One indexed lookup per column: with an OR, SQLite would scan the whole chat instead.
    for column in (Message.telegram_message_id, Message.picture_message_id):
        character = await session.scalar(
            select(Character)
            .join(Message, Message.character_id == Character.id)
            .where(Message.chat_id == chat_id, column == telegram_message_id)
            # Ids can repeat after a group became a supergroup: the newest turn wins.
            .order_by(Message.id.desc())
            .limit(1)
        )
        if character is not None:
            return _character_record(character)
    return None


async def last_turns(session: AsyncSession, character_id: int, limit: int) -> list[MessageRecord]:
    """The newest `limit` turns, oldest first (the prompt's history)."""
    if limit <= 0:
        return []
    # Newest-first over the (character_id, id) index reads only `limit` rows, whatever the
    # history's length; reversing here is cheaper than a subquery.
    rows = await session.scalars(
        select(Message)
        .where(Message.character_id == character_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return [_message_record(row) for row in reversed(rows.all())]


async def last_character_turn(session: AsyncSession, character_id: int) -> MessageRecord | None:
    """The character's most recent line, if it has spoken."""
    message = await session.scalar(
        select(Message)
        .where(Message.character_id == character_id, Message.role == ROLE_CHARACTER)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return None if message is None else _message_record(message)


async def clear_history(session: AsyncSession, character_id: int) -> int:
    """Forget one character's conversation (the character stays); returns turns deleted."""
    result = await session.execute(delete(Message).where(Message.character_id == character_id))
    return _rowcount(result)


async def prune_messages_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete every turn older than `cutoff` (timezone-aware); returns turns deleted."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    result = await session.execute(delete(Message).where(Message.created_at < cutoff))
    return _rowcount(result)


# --- privacy and chat lifecycle --------------------------------------------------------


async def forget_user(session: AsyncSession, user_id: int) -> None:
    """Erase a user: their characters (with those conversations), their turns, their row.

    Other users keep everything except turns spoken to one of this user's characters, which
    go with the character. Copies others made from a share link stay (the link is cut).
    """
    owned = select(Character.id).where(Character.owner_id == user_id).scalar_subquery()
    # Explicit deletes rather than relying on ON DELETE CASCADE: it needs a per-connection
    # pragma on SQLite, and forgetting must not depend on that.
    await session.execute(
        update(Character)
        .where(Character.source_character_id.in_(owned))
        .values(source_character_id=None)
    )
    await session.execute(delete(Message).where(Message.character_id.in_(owned)))
    await session.execute(delete(Message).where(Message.author_id == user_id))
    await session.execute(
        delete(ActiveCharacter).where(
            (ActiveCharacter.character_id.in_(owned)) | (ActiveCharacter.user_id == user_id)
        )
    )
    await session.execute(delete(Character).where(Character.owner_id == user_id))
    await session.execute(delete(User).where(User.id == user_id))


async def forget_user_in_chat(session: AsyncSession, user_id: int, chat_id: int) -> int:
    """Delete the user's own turns in one chat; returns turns deleted."""
    result = await session.execute(
        delete(Message).where(Message.author_id == user_id, Message.chat_id == chat_id)
    )
    return _rowcount(result)


async def migrate_chat(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """Move everything of a group to its new id when Telegram upgrades it to a supergroup."""
    # A choice already made in the new chat is the newer one: drop the old chat's duplicate.
    taken = select(ActiveCharacter.user_id).where(ActiveCharacter.chat_id == new_chat_id)
    await session.execute(
        delete(ActiveCharacter).where(
            ActiveCharacter.chat_id == old_chat_id, ActiveCharacter.user_id.in_(taken)
        )
    )
    for model in (ActiveCharacter, Character, Message):
        await session.execute(
            update(model).where(model.chat_id == old_chat_id).values(chat_id=new_chat_id)
        )


async def stats(session: AsyncSession) -> Stats:
    """How many users, characters and turns are stored."""
    users = await session.scalar(select(func.count()).select_from(User))
    characters = await session.scalar(select(func.count()).select_from(Character))
    messages = await session.scalar(select(func.count()).select_from(Message))
    return Stats(users=users or 0, characters=characters or 0, messages=messages or 0)


# --- helpers ---------------------------------------------------------------------------


def _insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT with ON CONFLICT support (SQLite and PostgreSQL share its API)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"upserts are not written for the {dialect!r} dialect")


def _rowcount(result: Result[Any]) -> int:
    # DML through a session returns a CursorResult; the session's signature says only Result.
    return cast(CursorResult[Any], result).rowcount


def _character_record(character: Character) -> CharacterRecord:
    return CharacterRecord(
        id=character.id,
        chat_id=character.chat_id,
        owner_id=character.owner_id,
        photo_file_id=character.photo_file_id,
        description=character.description,
        persona_name=character.persona_name,
        persona_traits=character.persona_traits,
        persona_style=character.persona_style,
        language=character.language,
        share_code=character.share_code,
        source_character_id=character.source_character_id,
        created_at=character.created_at,
    )


def _message_record(message: Message) -> MessageRecord:
    return MessageRecord(
        id=message.id,
        character_id=message.character_id,
        chat_id=message.chat_id,
        author_id=message.author_id,
        author_name=message.author_name,
        role=cast(Role, message.role),
        text=message.text,
        telegram_message_id=message.telegram_message_id,
        picture_message_id=message.picture_message_id,
        created_at=message.created_at,
    )
