"""What every query module shares: the dialect's upsert, row counts, rows to records."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Character, Message
from storage.records import CharacterRecord, MessageRecord, Role


def insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT with ON CONFLICT support (SQLite and PostgreSQL share its API)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"upserts are not written for the {dialect!r} dialect")


def rowcount(result: Result[Any]) -> int:
    # DML through a session returns a CursorResult; the session's signature says only Result.
    return cast(CursorResult[Any], result).rowcount


def character_record(character: Character) -> CharacterRecord:
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
        voice=character.voice,
        photo_author_id=character.photo_author_id,
    )


def message_record(message: Message) -> MessageRecord:
    return MessageRecord(
        id=message.id,
        character_id=message.character_id,
        chat_id=message.chat_id,
        author_id=message.author_id,
        author_name=message.author_name,
        role=cast(Role, message.role),
        text=message.text,
        telegram_message_id=message.telegram_message_id,
        created_at=message.created_at,
        spoken=message.spoken,
    )
