"""Per-chat settings: whether characters speak (voice) and move (video) in this chat."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatSettings
from storage.queries._common import insert_for
from storage.records import ChatSettingsRecord


async def get_chat_settings(session: AsyncSession, chat_id: int) -> ChatSettingsRecord:
    """The chat's choices; None in a field means "never chosen" (the caller's default)."""
    row = await session.get(ChatSettings, chat_id)
    if row is None:
        return ChatSettingsRecord(chat_id=chat_id, voice=None, video=None)
    return ChatSettingsRecord(chat_id=chat_id, voice=row.voice, video=row.video)


async def set_chat_voice(session: AsyncSession, chat_id: int, on: bool) -> None:
    """/voice on|off for the whole chat."""
    await _upsert(session, chat_id, voice=on)


async def set_chat_video(session: AsyncSession, chat_id: int, on: bool) -> None:
    """/video on|off for the whole chat."""
    await _upsert(session, chat_id, video=on)


async def _upsert(session: AsyncSession, chat_id: int, **values: bool) -> None:
    insert = insert_for(session)
    statement = insert(ChatSettings).values(chat_id=chat_id, **values)
    statement = statement.on_conflict_do_update(index_elements=[ChatSettings.chat_id], set_=values)
    await session.execute(statement)
