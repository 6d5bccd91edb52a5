"""Forgetting users, retention, moving a group's data to its supergroup, counts for /stats."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActiveCharacter,
    Arrival,
    Character,
    ChatSettings,
    Message,
    SentMessage,
    User,
)
from storage.queries._common import character_record, rowcount
from storage.records import CharacterRecord, Pruned, Stats


async def forget_user(session: AsyncSession, user_id: int) -> list[CharacterRecord]:
    """Erase a user: every character made from their photos, their turns, their row; returns
    the characters erased (so work still under way for them can be stopped).

    Characters from their photos go everywhere, with every conversation with them: the ones
    they made, the ones others made from a photo they posted, and every copy opened from a
    /share link. What they made in a group from someone else's photo stays there without an
    owner. Elsewhere other people keep everything but the user's own turns.
    """
    gone = await _characters_from_photos_of(session, user_id)
    erased = [
        character_record(c)
        for c in await session.scalars(select(Character).where(Character.id.in_(gone)))
    ]
    # Explicit deletes rather than relying on ON DELETE CASCADE: it needs a per-connection
    # pragma on SQLite, and forgetting must not depend on that.
    turns = select(Message.id).where(
        Message.character_id.in_(gone) | (Message.author_id == user_id)
    )
    await session.execute(delete(SentMessage).where(SentMessage.message_id.in_(turns)))
    await session.execute(delete(Message).where(Message.id.in_(turns)))
    await session.execute(
        delete(ActiveCharacter).where(
            ActiveCharacter.character_id.in_(gone) | (ActiveCharacter.user_id == user_id)
        )
    )
    await _delete_characters(session, gone)
    await session.execute(
        update(Character).where(Character.owner_id == user_id).values(owner_id=None)
    )
    # A private chat's id is the user's id: its /voice and /video choices are theirs.
    await session.execute(delete(ChatSettings).where(ChatSettings.chat_id == user_id))
    await session.execute(delete(Arrival).where(Arrival.user_id == user_id))  # unanswered
    await session.execute(delete(User).where(User.id == user_id))
    return erased


async def _characters_from_photos_of(session: AsyncSession, user_id: int) -> set[int]:
    """Ids of the characters /forget deletes: made from the user's photos, or by them in
    their private chat, and all copies of those (copies of copies too)."""
    found = set(
        await session.scalars(
            select(Character.id).where(
                (Character.photo_author_id == user_id)
                | ((Character.owner_id == user_id) & (Character.chat_id == user_id))
            )
        )
    )
    frontier = found
    while frontier:
        copies = set(
            await session.scalars(
                select(Character.id).where(Character.source_character_id.in_(frontier))
            )
        )
        frontier = copies - found
        found |= frontier
    return found


async def _delete_characters(session: AsyncSession, ids: Collection[int]) -> None:
    """Delete characters whose turns and active-character rows are gone; their copies stay."""
    await session.execute(
        update(Character)
        .where(Character.source_character_id.in_(ids))
        .values(source_character_id=None)
    )
    await session.execute(delete(Character).where(Character.id.in_(ids)))


async def prune_history(session: AsyncSession, cutoff: datetime) -> Pruned:
    """Retention: delete every turn older than `cutoff` (timezone-aware), then what that left
    without a single turn: characters (photo file id, persona, share code, active choices)
    and users (name, language, their private chat's choices). Newer ones are kept, turns or
    not: they were just made."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    old = select(Message.id).where(Message.created_at < cutoff)
    await session.execute(delete(SentMessage).where(SentMessage.message_id.in_(old)))
    messages = rowcount(await session.execute(delete(Message).where(Message.id.in_(old))))

    silent = set(
        await session.scalars(
            select(Character.id).where(
                Character.created_at < cutoff,
                ~exists().where(Message.character_id == Character.id),
            )
        )
    )
    await session.execute(delete(ActiveCharacter).where(ActiveCharacter.character_id.in_(silent)))
    await _delete_characters(session, silent)

    idle = set(
        await session.scalars(
            select(User.id).where(
                User.created_at < cutoff,
                ~exists().where(Message.author_id == User.id),
                ~exists().where(Character.owner_id == User.id),
            )
        )
    )
    await session.execute(delete(ActiveCharacter).where(ActiveCharacter.user_id.in_(idle)))
    # A private chat's id is the user's id: its /voice and /video choices are theirs.
    await session.execute(delete(ChatSettings).where(ChatSettings.chat_id.in_(idle)))
    await session.execute(delete(User).where(User.id.in_(idle)))
    return Pruned(messages=messages, characters=len(silent), users=len(idle))


async def forget_user_in_chat(session: AsyncSession, user_id: int, chat_id: int) -> int:
    """Delete the user's own turns in one chat (and what they sent there that is still
    unanswered); returns turns deleted."""
    await session.execute(
        delete(Arrival).where(Arrival.user_id == user_id, Arrival.chat_id == chat_id)
    )
    result = await session.execute(
        delete(Message).where(Message.author_id == user_id, Message.chat_id == chat_id)
    )
    return rowcount(result)


async def migrate_chat(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """Move everything of a group to its new id when Telegram upgrades it to a supergroup."""
    # A choice already made in the new chat is the newer one: drop the old chat's duplicate.
    taken = select(ActiveCharacter.user_id).where(ActiveCharacter.chat_id == new_chat_id)
    await session.execute(
        delete(ActiveCharacter).where(
            ActiveCharacter.chat_id == old_chat_id, ActiveCharacter.user_id.in_(taken)
        )
    )
    # Settings made in the new chat win too; otherwise the old chat's choices move over.
    if await session.get(ChatSettings, new_chat_id) is not None:
        await session.execute(delete(ChatSettings).where(ChatSettings.chat_id == old_chat_id))
    for model in (ActiveCharacter, Character, Message, SentMessage, ChatSettings):
        await session.execute(
            update(model).where(model.chat_id == old_chat_id).values(chat_id=new_chat_id)
        )


async def stats(session: AsyncSession) -> Stats:
    """How many users, characters and turns are stored."""
    users = await session.scalar(select(func.count()).select_from(User))
    characters = await session.scalar(select(func.count()).select_from(Character))
    messages = await session.scalar(select(func.count()).select_from(Message))
    return Stats(users=users or 0, characters=characters or 0, messages=messages or 0)
