"""The engine's SQLite settings are really in force on every connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import queries
from storage.engine import create_engine, create_session_factory


async def test_pragmas_are_set_on_every_connection(sqlite_database_url: str) -> None:
    engine = create_engine(sqlite_database_url)
    async with engine.connect() as first, engine.connect() as second:  # two pool connections
        for connection in (first, second):
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in (
                    "journal_mode",
                    "foreign_keys",
                    "busy_timeout",
                    "synchronous",
                    "secure_delete",
                )
            }
            # synchronous: 1 = NORMAL
            assert pragmas == {
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 5000,
                "synchronous": 1,
                "secure_delete": 1,
            }
    await engine.dispose()


async def test_foreign_keys_are_enforced(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await queries.create_character(
                    session,
                    chat_id=1,
                    owner_id=404,  # no such user
                    photo_file_id="f",
                    description="d",
                    persona_name="n",
                    persona_traits="t",
                    persona_style="s",
                    language="en",
                )


async def test_creates_the_parent_folder_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "db.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    await engine.dispose()
    assert path.is_file()


async def test_in_memory_database_needs_no_folder() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_forgotten_text_does_not_linger_in_the_file(sqlite_database_url: str) -> None:
    secret = "my-very-private-words-7f3a9c"
    engine = create_engine(sqlite_database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await queries.upsert_user(session, 42, "Alice")
        character = await queries.create_character(
            session,
            chat_id=42,
            owner_id=42,
            photo_file_id="file",
            description="d",
            persona_name="Anna",
            persona_traits="t",
            persona_style="s",
            language="en",
        )
        for _ in range(50):
            await queries.add_message(
                session,
                character_id=character.id,
                chat_id=42,
                author_id=42,
                author_name="Alice",
                role="user",
                text=secret,
            )
    async with sessions() as session, session.begin():
        await queries.forget_user(session, 42)
    await engine.dispose()  # the last connection checkpoints the WAL into the file
    path = Path(sqlite_database_url.removeprefix("sqlite+aiosqlite:///"))
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert files and all(secret.encode() not in p.read_bytes() for p in files)
