"""Users: who talked to the bot, their name and chosen language."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utc_now
from storage.errors import NotFound
from storage.models import (
    User,
)
from storage.queries._common import insert_for, rowcount


async def upsert_user(
    session: AsyncSession, user_id: int, display_name: str, language_hint: str | None = None
) -> None:
    """Record a user (or their new display name); `language_hint` only fills an unset language."""
    insert = insert_for(session)
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
    if rowcount(result) == 0:
        raise NotFound(f"user {user_id}")
