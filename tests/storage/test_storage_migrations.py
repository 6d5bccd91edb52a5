"""The migrations build the schema the models describe, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from postgres_cluster import PostgresCluster
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage import queries
from storage.base import Base
from storage.engine import create_engine, create_session_factory
from storage.migrate import alembic_config, upgrade_database, upgrade_database_async


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


EXPECTED_INDEXES = {
    "characters": {
        ("ix_characters_chat_id_id", ("chat_id", "id"), False),
        ("ix_characters_owner_id", ("owner_id",), False),
        ("ix_characters_photo_author_id", ("photo_author_id",), False),
    },
    "messages": {
        ("ix_messages_character_id_id", ("character_id", "id"), False),
        ("ix_messages_chat_id_telegram_message_id", ("chat_id", "telegram_message_id"), False),
        ("ix_messages_author_id_chat_id", ("author_id", "chat_id"), False),
        ("ix_messages_created_at", ("created_at",), False),
    },
    "active_characters": {
        ("ix_active_characters_character_id", ("character_id",), False),
    },
    "sent_messages": {
        (
            "ix_sent_messages_chat_id_telegram_message_id",
            ("chat_id", "telegram_message_id"),
            False,
        ),
        ("ix_sent_messages_message_id", ("message_id",), False),
    },
    "arrivals": {
        ("ix_arrivals_received_at", ("received_at",), False),
        ("ix_arrivals_user_id", ("user_id",), False),
    },
    "users": set(),
}


def _describe_schema(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    return {
        "tables": set(inspector.get_table_names()),
        "indexes": {
            table: {
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
            }
            for table in EXPECTED_INDEXES
        },
        "unique": {
            (uq["name"], tuple(uq["column_names"]))
            for uq in inspector.get_unique_constraints("characters")
        },
        "pk": inspector.get_pk_constraint("active_characters")["constrained_columns"],
        "fks": {
            table: {
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            }
            for table in ("characters", "messages", "active_characters", "sent_messages")
        },
    }


def _diff_against_models(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_from_empty_creates_every_table_and_index(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "db.sqlite3"  # parent folders do not exist yet
    await upgrade_database_async(sqlite_url(path))

    engine = create_engine(sqlite_url(path))
    async with engine.connect() as connection:
        schema = await connection.run_sync(_describe_schema)
        version = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    await engine.dispose()

    assert schema["tables"] == {
        "alembic_version",
        "users",
        "characters",
        "messages",
        "active_characters",
        "chat_settings",
        "sent_messages",
        "arrivals",
    }
    assert schema["indexes"] == EXPECTED_INDEXES
    assert schema["unique"] == {("uq_characters_share_code", ("share_code",))}
    assert schema["pk"] == ["chat_id", "user_id"]
    assert schema["fks"] == {
        "characters": {
            (("owner_id",), "users", "CASCADE"),
            (("source_character_id",), "characters", "SET NULL"),
        },
        "messages": {(("character_id",), "characters", "CASCADE")},
        "active_characters": {(("character_id",), "characters", "CASCADE")},
        "sent_messages": {(("message_id",), "messages", "CASCADE")},
    }
    assert version == ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    """What `alembic check` does: autogenerate against the migrated file finds nothing."""
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(_diff_against_models)
    await engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent_from_sync_code(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite3")
    upgrade_database(url)
    upgrade_database(url)  # already at head: nothing to do, no error


async def test_sync_upgrade_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite3")
    upgrade_database(url)  # would fail with asyncio.run() if not moved to a helper thread

    engine = create_engine(url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert "messages" in tables


async def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite3")
    await upgrade_database_async(url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")

    engine = create_engine(url)
    async with engine.connect() as connection:
        emptied = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert emptied == {"alembic_version"}

    await upgrade_database_async(url)  # the upgrade runs cleanly a second time


async def test_0003_keeps_every_row_and_marks_each_original_photo_as_its_creators(
    tmp_path: Path,
) -> None:
    """Rows from before 0003 survive the table rebuild, and /forget can find them."""
    url = sqlite_url(tmp_path / "db.sqlite3")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0002")
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (id, display_name, created_at) VALUES (7, 'A', '2026-01-01')")
        )
        for id_, source in ((1, None), (2, 1)):
            await connection.execute(
                text(
                    "INSERT INTO characters (id, chat_id, owner_id, photo_file_id, description,"
                    " persona_name, persona_traits, persona_style, language,"
                    " source_character_id, created_at)"
                    " VALUES (:id, 7, 7, 'f', 'd', 'n', 't', 's', 'en', :source, '2026-01-01')"
                ),
                {"id": id_, "source": source},
            )
        await connection.execute(
            text(
                "INSERT INTO messages (character_id, chat_id, author_id, author_name, role,"
                " text, created_at) VALUES (2, 7, 7, 'A', 'user', 'hi', '2026-01-01')"
            )
        )
        await connection.execute(text("INSERT INTO active_characters VALUES (7, 7, 1)"))
    await upgrade_database_async(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id, source_character_id, photo_author_id FROM characters ORDER BY id")
        )
        characters = [tuple(row) for row in rows]
        kept = [
            (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            for table in ("messages", "active_characters")
        ]
    await engine.dispose()
    # The original's creator sent the photo; the copy is found through its source.
    assert characters == [(1, None, 7), (2, 1, None)]
    assert kept == [1, 1]  # rebuilding `characters` must not cascade into other tables


def test_db_upgrade_command_migrates_a_postgresql_database(postgres: PostgresCluster) -> None:
    """What an operator runs before starting the bot: `photo-talk db upgrade` on PostgreSQL."""
    url = postgres.create_database()  # empty
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    database = url.rsplit("/", 1)[1]
    assert postgres.sql("SELECT version_num FROM alembic_version", database).strip() == head
    tables = set(
        postgres.sql("SELECT tablename FROM pg_tables WHERE schemaname='public'", database).split()
    )
    assert {"users", "characters", "messages", "active_characters", "chat_settings"} <= tables
    postgres.drop_database(url)


async def test_postgresql_downgrade_to_base_and_up_again(postgres: PostgresCluster) -> None:
    url = postgres.migrated_database()
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")
    engine = create_engine(url)
    async with engine.connect() as connection:
        emptied = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert emptied == {"alembic_version"}
    await upgrade_database_async(url)
    postgres.drop_database(url)


async def test_0004_keeps_the_pictures_stored_before_it(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite3")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0003")
    engine = create_engine(url)
    async with engine.begin() as connection:
        for statement in (
            "INSERT INTO users (id, display_name, created_at) VALUES (1, 'A', '2026-01-01')",
            "INSERT INTO characters (id, chat_id, owner_id, photo_file_id, description, "
            "persona_name, persona_traits, persona_style, language, created_at) "
            "VALUES (7, 1, 1, 'f', 'd', 'Ada', 't', 's', 'en', '2026-01-01')",
            "INSERT INTO messages (id, character_id, chat_id, author_name, role, text, "
            "telegram_message_id, picture_message_id, created_at) "
            "VALUES (3, 7, 1, 'Ada', 'character', 'hi', 10, 11, '2026-01-01')",
        ):
            await connection.execute(text(statement))
    await upgrade_database_async(url)
    async with create_session_factory(engine)() as session:
        routed = await queries.character_for_telegram_message(session, 1, 11)
    await engine.dispose()
    assert routed is not None and routed.id == 7


async def _seed_every_table(url: str) -> None:
    """Rows in every table through the bot's own queries, including what only a downgrade
    has to throw away: a group character whose owner used /forget (no owner since 0003),
    with a copy, turns, an active choice and the messages sent for its lines."""
    engine = create_engine(url)
    async with create_session_factory(engine)() as session, session.begin():
        for user_id, name in ((1, "Alice"), (2, "Bob")):
            await queries.upsert_user(session, user_id, name)
        made: dict[str, Any] = {}
        for key, owner, chat, author, source in (
            ("alices", 1, 1, 1, None),  # Alice's own, in her private chat
            ("from_bobs_photo", 1, -100, 2, None),  # Alice's /talk to Bob's photo in a group
        ):
            made[key] = await queries.create_character(
                session,
                chat_id=chat,
                owner_id=owner,
                photo_file_id=f"photo-{key}",
                description="d",
                persona_name=key,
                persona_traits="t",
                persona_style="s",
                language="en",
                photo_author_id=author,
                source_character_id=source,
            )
        made["copy"] = await queries.create_character(
            session,
            chat_id=2,
            owner_id=2,
            photo_file_id="photo-copy",
            description="d",
            persona_name="copy",
            persona_traits="t",
            persona_style="s",
            language="en",
            source_character_id=made["from_bobs_photo"].id,
        )
        for number, character in enumerate(made.values()):
            line = await queries.add_message(
                session,
                character_id=character.id,
                chat_id=character.chat_id,
                author_id=None,
                author_name="c",
                role="character",
                text="hello",
            )
            await queries.set_telegram_message_id(session, line.id, 10 * number + 1)
            for offset, kind in enumerate(("text", "voice", "picture", "video")):
                await queries.add_sent_messages(session, line.id, kind, [10 * number + offset + 1])
            await queries.add_message(
                session,
                character_id=character.id,
                chat_id=character.chat_id,
                author_id=2,
                author_name="Bob",
                role="user",
                text="hi",
            )
            await queries.set_active_character(session, character.chat_id, 2, character.id)
        await queries.set_chat_voice(session, -100, True)
        await queries.forget_user(session, 1)  # the group character loses its owner
    await engine.dispose()


def _orphans(connection: Connection) -> dict[str, int]:
    """For each foreign key of the schema as it is now: rows that point at nothing."""
    inspector = inspect(connection)
    found = {}
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            [column], [referred] = fk["constrained_columns"], fk["referred_columns"]
            found[f"{table}.{column}"] = connection.execute(
                text(
                    f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS"
                    f" (SELECT 1 FROM {fk['referred_table']} r WHERE r.{referred} = t.{column})"
                )
            ).scalar_one()
    return found


def _row_counts(connection: Connection) -> dict[str, int]:
    return {
        table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in inspect(connection).get_table_names()
        if table != "alembic_version"
    }


async def test_every_downgrade_on_a_database_with_data_leaves_no_orphans(
    database_url: str,
) -> None:
    """Step by step from head to the first revision, on SQLite (foreign keys off while it
    migrates) and PostgreSQL; then up again."""
    await _seed_every_table(database_url)
    config = alembic_config(database_url)
    steps = [s.down_revision for s in ScriptDirectory.from_config(config).walk_revisions()]
    engine = create_engine(database_url)
    seen = {}
    for revision in steps[:-1]:  # the last step (to base) drops every table
        await asyncio.to_thread(command.downgrade, config, str(revision))
        async with engine.connect() as connection:
            orphans = await connection.run_sync(_orphans)
            seen[revision] = await connection.run_sync(_row_counts)
        assert orphans and not any(orphans.values()), (revision, orphans)
    await engine.dispose()
    # Each step kept what it could: the rows that still have a place in its schema.
    assert seen["0004"]["pictures"] == 2 and seen["0004"]["messages"] == 4
    assert seen["0002"]["characters"] == 1 and seen["0002"]["chat_settings"] == 1
    assert seen["0001"] == {"users": 1, "characters": 1, "messages": 2, "active_characters": 1}
    await upgrade_database_async(database_url)
