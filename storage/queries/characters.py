"""Characters: creating, finding, the active one per chat, share codes."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utc_now
from storage.errors import NotFound, ShareCodeTaken
from storage.models import (
    ActiveCharacter,
    Character,
)
from storage.queries._common import character_record, insert_for, rowcount
from storage.records import CharacterRecord


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
    photo_author_id: int | None = None,
    voice: str | None = None,
) -> CharacterRecord:
    """Store a new character (the owner must exist: call `upsert_user` first).

    `photo_author_id` is who sent the photo when it was not the owner (or a copy's original).
    """
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
        photo_author_id=owner_id if photo_author_id is None else photo_author_id,
        voice=voice,
        created_at=utc_now(),
    )
    session.add(character)
    await session.flush()
    return character_record(character)


async def get_character(session: AsyncSession, character_id: int) -> CharacterRecord | None:
    """The character with this id, if it still exists."""
    character = await session.get(Character, character_id)
    return None if character is None else character_record(character)


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
    return [character_record(row) for row in rows]


async def set_active_character(
    session: AsyncSession, chat_id: int, user_id: int, character_id: int
) -> None:
    """Make `character_id` answer un-addressed text from `user_id` (0: the whole group)."""
    insert = insert_for(session)
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
    return None if character is None else character_record(character)


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
    if rowcount(result) == 0:
        raise NotFound(f"character {character_id}")


async def character_by_share_code(session: AsyncSession, code: str) -> CharacterRecord | None:
    """The character a share link points at, unless the code was revoked."""
    character = await session.scalar(select(Character).where(Character.share_code == code))
    return None if character is None else character_record(character)


async def set_character_voice(session: AsyncSession, character_id: int, voice: str) -> None:
    """Keep the voice chosen for a character, so it always sounds the same."""
    result = await session.execute(
        update(Character).where(Character.id == character_id).values(voice=voice)
    )
    if rowcount(result) == 0:
        raise NotFound(f"character {character_id}")
