"""Every query function against a real, migrated SQLite file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, inspect, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import queries
from storage.engine import create_engine, create_session_factory
from storage.errors import NotFound, ShareCodeTaken
from storage.models import Character, Message
from storage.records import CharacterRecord, MessageRecord, Pruned, Role, Stats

Factory = async_sessionmaker[AsyncSession]

ALICE, BOB, CAROL = 1001, 2002, 3003
GROUP, OTHER_GROUP = -100500, -100600
TABLES = ("users", "characters", "messages", "active_characters", "chat_settings")


async def make_character(
    session: AsyncSession, owner_id: int, chat_id: int, name: str = "Ada", **extra: Any
) -> CharacterRecord:
    await queries.upsert_user(session, owner_id, f"user {owner_id}")
    return await queries.create_character(
        session,
        chat_id=chat_id,
        owner_id=owner_id,
        photo_file_id=f"photo-of-{name}",
        description=f"a photo of {name}",
        persona_name=name,
        persona_traits="curious, kind",
        persona_style="short sentences",
        language="en",
        **extra,
    )


async def say(
    session: AsyncSession,
    character: CharacterRecord,
    text_: str,
    *,
    author_id: int | None,
    chat_id: int | None = None,
    telegram_message_id: int | None = None,
) -> MessageRecord:
    role: Role = "character" if author_id is None else "user"
    return await queries.add_message(
        session,
        character_id=character.id,
        chat_id=character.chat_id if chat_id is None else chat_id,
        author_id=author_id,
        author_name=character.persona_name if author_id is None else f"user {author_id}",
        role=role,
        text=text_,
        telegram_message_id=telegram_message_id,
    )


async def table_rows(session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as plain dicts (to prove what a deletion touched)."""
    return {
        table: [
            dict(row) for row in (await session.execute(text(f"SELECT * FROM {table}"))).mappings()
        ]
        for table in TABLES
    }


async def plan_of_last_query(
    session: AsyncSession, call: Callable[[], Awaitable[Any]], *, in_index_order: bool = False
) -> str:
    """Run `call` and return the database's query plan for the last SQL it emitted.

    PostgreSQL is told to avoid the full scans (and, `in_index_order`, the sorts) it would
    rightly prefer on a test-sized table: the question is whether an index *can* serve it."""
    emitted: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        emitted.append((statement, params))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = emitted[-1]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        avoid = ["enable_seqscan", "enable_bitmapscan"] + (
            ["enable_sort"] if in_index_order else []
        )
        for setting in avoid:
            await connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", params)
    else:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
    return "\n".join(str(row[-1]) for row in rows)


def sorts(plan: str) -> bool:
    """Whether the plan sorts rows itself (SQLite: a temporary b-tree; PostgreSQL: a Sort)."""
    return "TEMP B-TREE" in plan or "Sort" in plan


# --- users -----------------------------------------------------------------------------


async def test_upsert_user_keeps_a_chosen_language(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        assert await queries.get_user_language(session, ALICE) is None  # unknown user
        await queries.upsert_user(session, ALICE, "Alice")
        assert await queries.get_user_language(session, ALICE) is None
        await queries.upsert_user(session, ALICE, "Alice", language_hint="zh")
        assert await queries.get_user_language(session, ALICE) == "zh"  # hint fills a gap

        await queries.set_user_language(session, ALICE, "en")
        await queries.upsert_user(session, ALICE, "Alice B.", language_hint="zh")
        assert await queries.get_user_language(session, ALICE) == "en"
        name = await session.scalar(
            text("SELECT display_name FROM users WHERE id = :id"), {"id": ALICE}
        )
        assert name == "Alice B."


async def test_set_language_of_unknown_user_is_an_error(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        with pytest.raises(NotFound):
            await queries.set_user_language(session, 404, "en")


async def test_telegram_sized_user_ids_fit(session_factory: Factory) -> None:
    big = 2**52 + 7  # Telegram ids may need up to 52 bits
    async with session_factory() as session, session.begin():
        await queries.upsert_user(session, big, "Big", language_hint="en")
        assert await queries.get_user_language(session, big) == "en"


# --- characters ------------------------------------------------------------------------


async def test_create_and_get_character(session_factory: Factory) -> None:
    before = datetime.now(UTC)
    async with session_factory() as session, session.begin():
        created = await make_character(session, ALICE, ALICE, "Ada")
    async with session_factory() as session:
        loaded = await queries.get_character(session, created.id)
        missing = await queries.get_character(session, created.id + 1)

    assert loaded == created
    assert (loaded.owner_id, loaded.chat_id, loaded.persona_name) == (ALICE, ALICE, "Ada")
    assert loaded.share_code is None and loaded.source_character_id is None
    assert loaded.created_at.tzinfo is UTC
    assert before <= loaded.created_at <= datetime.now(UTC)
    assert missing is None


async def test_helpers_do_not_commit_the_callers_transaction(session_factory: Factory) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with session_factory() as session, session.begin():
            character = await make_character(session, ALICE, ALICE)
            await say(session, character, "hi", author_id=ALICE)
            raise Abort  # the caller's transaction rolls back: nothing may have been committed
    async with session_factory() as session:
        assert await queries.stats(session) == Stats(users=0, characters=0, messages=0)


async def test_recent_characters_newest_first_in_one_chat(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        made = [await make_character(session, ALICE, GROUP, f"c{i}") for i in range(4)]
        await make_character(session, BOB, OTHER_GROUP, "elsewhere")
    async with session_factory() as session:
        recent = await queries.recent_characters(session, GROUP, limit=3)
        everything = await queries.recent_characters(session, GROUP)
    assert [c.persona_name for c in recent] == ["c3", "c2", "c1"]
    assert [c.id for c in everything] == [c.id for c in reversed(made)]


async def test_active_character_per_user_and_group_wide(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        first = await make_character(session, ALICE, GROUP, "first")
        second = await make_character(session, ALICE, GROUP, "second")
        await queries.set_active_character(session, GROUP, 0, first.id)
        await queries.set_active_character(session, GROUP, BOB, second.id)
        await queries.set_active_character(session, GROUP, 0, second.id)  # replaces
        private = await make_character(session, ALICE, ALICE, "private")
        await queries.set_active_character(session, ALICE, ALICE, private.id)

    async with session_factory() as session:
        group_wide = await queries.get_active_character(session, GROUP, 0)
        bobs = await queries.get_active_character(session, GROUP, BOB)
        alices = await queries.get_active_character(session, ALICE, ALICE)
        nobody = await queries.get_active_character(session, GROUP, ALICE)
        rows = (await session.execute(text("SELECT COUNT(*) FROM active_characters"))).scalar()
    assert group_wide == second and bobs == second and alices == private
    assert nobody is None
    assert rows == 3


# --- messages --------------------------------------------------------------------------


async def test_reply_routing_finds_the_character_of_a_telegram_message(
    session_factory: Factory,
) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, GROUP, "Ada")
        bea = await make_character(session, BOB, GROUP, "Bea")
        elsewhere = await make_character(session, BOB, OTHER_GROUP, "Cy")
        line = await say(session, ada, "Hello!", author_id=None)
        await queries.set_telegram_message_id(session, line.id, 11)  # known after sending
        await queries.add_sent_messages(session, line.id, "text", [11, 12])  # a long line
        await queries.add_sent_messages(session, line.id, "voice", [13])
        await queries.add_sent_messages(session, line.id, "picture", [14])
        await queries.add_sent_messages(session, line.id, "video", [15])
        await say(session, bea, "Hi there", author_id=BOB, telegram_message_id=16)
        await say(session, elsewhere, "Yo", author_id=None, telegram_message_id=11)

    async with session_factory() as session:
        for sent in (11, 12, 13, 14, 15):
            assert await queries.character_for_telegram_message(session, GROUP, sent) == ada
        assert await queries.character_for_telegram_message(session, GROUP, 16) == bea
        assert await queries.character_for_telegram_message(session, OTHER_GROUP, 11) == elsewhere
        assert await queries.character_for_telegram_message(session, GROUP, 99) is None
        by_sent = await plan_of_last_query(
            session, lambda: queries.character_for_telegram_message(session, GROUP, 13)
        )
        by_turn = await plan_of_last_query(
            session, lambda: queries.character_for_telegram_message(session, GROUP, 16)
        )
    for plan, index in (
        (by_sent, "ix_sent_messages_chat_id_telegram_message_id"),
        (by_turn, "ix_messages_chat_id_telegram_message_id"),
    ):
        assert index in plan  # both columns are the index's condition, on either backend:
        assert "telegram_message_id=?" in plan or "(telegram_message_id = " in plan
    if session.get_bind().dialect.name == "sqlite":
        assert not sorts(by_turn + by_sent)


async def test_linking_an_unknown_message_is_an_error(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        with pytest.raises(NotFound):
            await queries.set_telegram_message_id(session, 404, 1)
        with pytest.raises(NotFound):
            await queries.add_sent_messages(session, 404, "picture", [1])
        with pytest.raises(IntegrityError):  # the schema knows the kinds too
            ada = await make_character(session, ALICE, ALICE)
            line = await say(session, ada, "Hello!", author_id=None)
            await queries.add_sent_messages(session, line.id, "hologram", [1])  # type: ignore[arg-type]


async def test_add_message_refuses_an_unknown_role(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, ALICE)
        with pytest.raises(ValueError, match="role"):
            await queries.add_message(
                session,
                character_id=ada.id,
                chat_id=ALICE,
                author_id=ALICE,
                author_name="Alice",
                role="system",  # type: ignore[arg-type]
                text="x",
            )


async def test_last_turns_are_the_newest_in_chronological_order(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, GROUP, "Ada")
        bea = await make_character(session, BOB, GROUP, "Bea")
        for i in range(30):  # two conversations interleaved
            await say(session, ada, f"ada {i}", author_id=ALICE if i % 2 else None)
            await say(session, bea, f"bea {i}", author_id=BOB)

    async with session_factory() as session:
        last20 = await queries.last_turns(session, ada.id, 20)
        everything = await queries.last_turns(session, ada.id, 100)
        none = await queries.last_turns(session, ada.id, 0)
        plan = await plan_of_last_query(
            session, lambda: queries.last_turns(session, ada.id, 20), in_index_order=True
        )

    assert [m.text for m in last20] == [f"ada {i}" for i in range(10, 30)]
    assert [m.role for m in last20[:2]] == ["character", "user"]
    assert [m.text for m in everything] == [f"ada {i}" for i in range(30)]
    assert none == []
    assert "ix_messages_character_id_id" in plan
    assert not sorts(plan)  # the index gives the order: no sort of the history


async def test_last_character_turn(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, ALICE)
        assert await queries.last_character_turn(session, ada.id) is None
        await say(session, ada, "first line", author_id=None)
        spoken = await say(session, ada, "second line", author_id=None)
        await say(session, ada, "user says", author_id=ALICE)
        assert await queries.last_character_turn(session, ada.id) == spoken


async def test_clear_history_touches_one_character_only(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, GROUP, "Ada")
        bea = await make_character(session, ALICE, GROUP, "Bea")
        for i in range(3):
            await say(session, ada, f"a{i}", author_id=ALICE)
        kept = [await say(session, bea, f"b{i}", author_id=ALICE) for i in range(2)]

    async with session_factory() as session, session.begin():
        assert await queries.clear_history(session, ada.id) == 3
    async with session_factory() as session:
        assert await queries.last_turns(session, ada.id, 10) == []
        assert await queries.last_turns(session, bea.id, 10) == kept
        assert await queries.get_character(session, ada.id) == ada  # the character stays


async def test_sql_looking_and_unicode_text_is_stored_verbatim(session_factory: Factory) -> None:
    nasty = "'); DROP TABLE messages; --"
    chinese = "你好，我是照片里的人 🙂"
    async with session_factory() as session, session.begin():
        await queries.upsert_user(session, ALICE, nasty)
        ada = await queries.create_character(
            session,
            chat_id=ALICE,
            owner_id=ALICE,
            photo_file_id=nasty,
            description=nasty,
            persona_name=chinese,
            persona_traits=nasty,
            persona_style=chinese,
            language="zh",
        )
        await say(session, ada, nasty, author_id=ALICE)
        await say(session, ada, chinese, author_id=None)

    async with session_factory() as session:
        turns = await queries.last_turns(session, ada.id, 10)
        loaded = await queries.get_character(session, ada.id)
        tables = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
    assert [t.text for t in turns] == [nasty, chinese]
    assert turns[0].author_name == f"user {ALICE}"
    assert loaded is not None
    assert (loaded.description, loaded.persona_name) == (nasty, chinese)
    assert set(TABLES) <= set(tables)


# --- share codes -----------------------------------------------------------------------


async def test_share_codes_are_unique_and_revocable(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, ALICE, "Ada")
        bea = await make_character(session, BOB, BOB, "Bea")
        await queries.set_share_code(session, ada.id, "abc123")
        await queries.set_share_code(session, ada.id, "abc123")  # same holder: fine
        with pytest.raises(ShareCodeTaken):
            await queries.set_share_code(session, bea.id, "abc123")
        with pytest.raises(NotFound):
            await queries.set_share_code(session, 404, "zzz")

    async with session_factory() as session, session.begin():
        found = await queries.character_by_share_code(session, "abc123")
        assert found is not None and found.id == ada.id and found.share_code == "abc123"
        await queries.set_share_code(session, ada.id, None)
        assert await queries.character_by_share_code(session, "abc123") is None
        await queries.set_share_code(session, bea.id, "abc123")  # free again after revoking
        found = await queries.character_by_share_code(session, "abc123")
        assert found is not None and found.id == bea.id
        assert await queries.get_character(session, ada.id) == ada  # code gone again


async def test_share_code_uniqueness_is_enforced_by_the_schema(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, ALICE, "Ada")
        bea = await make_character(session, BOB, BOB, "Bea")
        await queries.set_share_code(session, ada.id, "same")
    async with session_factory() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await session.execute(
                    text("UPDATE characters SET share_code = 'same' WHERE id = :id"),
                    {"id": bea.id},
                )


# --- privacy ---------------------------------------------------------------------------


async def test_forget_user_removes_every_trace_of_their_photos_and_turns(
    session_factory: Factory,
) -> None:
    async with session_factory() as session, session.begin():
        await queries.upsert_user(session, BOB, "Bob")
        await queries.upsert_user(session, CAROL, "Carol")
        alices_private = await make_character(session, ALICE, ALICE, "Ada")
        alices_in_group = await make_character(session, ALICE, GROUP, "Ava")
        bobs_in_group = await make_character(session, BOB, GROUP, "Bea")
        # Bob said /talk to a photo Alice posted; Alice said /talk to a photo Bob posted.
        bob_from_alices_photo = await make_character(
            session, BOB, GROUP, "Abi", photo_author_id=ALICE
        )
        alice_from_bobs_photo = await make_character(
            session, ALICE, OTHER_GROUP, "Bo", photo_author_id=BOB
        )
        await queries.set_share_code(session, alices_private.id, "alice-share")
        bobs_copy = await make_character(
            session,
            BOB,
            BOB,
            "Ada",
            source_character_id=alices_private.id,
            photo_author_id=alices_private.photo_author_id,
        )
        # A copy of the copy, made before photo authors were stored (found by its source).
        carols_copy = await make_character(
            session, CAROL, CAROL, "Ada", source_character_id=bobs_copy.id
        )
        await session.execute(
            update(Character).where(Character.id == carols_copy.id).values(photo_author_id=None)
        )
        alices_copy_of_bobs = await make_character(
            session, ALICE, ALICE, "Bea", source_character_id=bobs_in_group.id
        )
        await say(session, alices_private, "hi", author_id=ALICE)
        await say(session, alices_private, "hello", author_id=None)
        await say(session, alices_in_group, "Bob to Ava", author_id=BOB)
        await say(session, alices_in_group, "Ava answers", author_id=None)
        await say(session, bobs_in_group, "Bob to Bea", author_id=BOB)
        await say(session, bobs_in_group, "Alice to Bea", author_id=ALICE)
        await say(session, bobs_in_group, "Bea answers", author_id=None)
        await say(session, bob_from_alices_photo, "Bob to Abi", author_id=BOB)
        await say(session, alice_from_bobs_photo, "Alice to Bo", author_id=ALICE)
        await say(session, alice_from_bobs_photo, "Bob to Bo", author_id=BOB)
        await say(session, alice_from_bobs_photo, "Bo answers", author_id=None)
        await say(session, bobs_copy, "Bob to his copy", author_id=BOB)
        await say(session, carols_copy, "Carol to her copy", author_id=CAROL)
        await say(session, alices_copy_of_bobs, "Alice to her copy", author_id=ALICE)
        await queries.set_active_character(session, ALICE, ALICE, alices_private.id)
        await queries.set_active_character(session, GROUP, ALICE, bobs_in_group.id)
        await queries.set_active_character(session, GROUP, 0, alices_in_group.id)
        await queries.set_active_character(session, GROUP, BOB, bobs_in_group.id)
        await queries.set_active_character(session, BOB, BOB, bobs_copy.id)
        await queries.set_active_character(session, OTHER_GROUP, 0, alice_from_bobs_photo.id)
        await queries.set_chat_voice(session, ALICE, True)
        await queries.set_chat_voice(session, BOB, False)
        before = await table_rows(session)

    async with session_factory() as session, session.begin():
        await queries.forget_user(session, ALICE)

    async with session_factory() as session:
        after = await table_rows(session)
        assert await queries.character_by_share_code(session, "alice-share") is None

    # Nothing of Alice's photos is left anywhere: not the file id, the description, the persona.
    alices_photos = {"photo-of-Ada", "photo-of-Ava", "photo-of-Abi"}
    assert not alices_photos & {c["photo_file_id"] for c in after["characters"]}
    assert all(c["persona_name"] not in ("Ada", "Ava", "Abi") for c in after["characters"])
    # Nor Alice herself: her id and her words are gone from every table.
    assert all(ALICE not in row.values() for table in after.values() for row in table)
    assert [u["id"] for u in after["users"]] == [BOB, CAROL]

    def row(table: str, **match: Any) -> dict[str, Any]:
        return next(r for r in before[table] if all(r[k] == v for k, v in match.items()))

    # Bob's characters stay; the one Alice made from Bob's photo stays, without an owner.
    assert after["characters"] == [
        row("characters", id=bobs_in_group.id),
        {**row("characters", id=alice_from_bobs_photo.id), "owner_id": None},
    ]
    # Other people's turns go only with characters made from Alice's photos.
    assert [m["text"] for m in after["messages"]] == [
        "Bob to Bea",
        "Bea answers",
        "Bob to Bo",
        "Bo answers",
    ]
    assert after["active_characters"] == [
        row("active_characters", chat_id=GROUP, user_id=BOB),
        row("active_characters", chat_id=OTHER_GROUP, user_id=0),
    ]
    assert after["chat_settings"] == [row("chat_settings", chat_id=BOB)]


async def test_forget_user_in_chat_removes_own_turns_in_that_chat_only(
    session_factory: Factory,
) -> None:
    async with session_factory() as session, session.begin():
        bea = await make_character(session, BOB, GROUP, "Bea")
        cy = await make_character(session, BOB, OTHER_GROUP, "Cy")
        await say(session, bea, "alice 1", author_id=ALICE)
        await say(session, bea, "bob 1", author_id=BOB)
        await say(session, bea, "bea 1", author_id=None)
        await say(session, bea, "alice 2", author_id=ALICE)
        await say(session, cy, "alice elsewhere", author_id=ALICE)

    async with session_factory() as session, session.begin():
        assert await queries.forget_user_in_chat(session, ALICE, GROUP) == 2
    async with session_factory() as session:
        in_group = await queries.last_turns(session, bea.id, 10)
        elsewhere = await queries.last_turns(session, cy.id, 10)
    assert [m.text for m in in_group] == ["bob 1", "bea 1"]
    assert [m.text for m in elsewhere] == ["alice elsewhere"]


# --- chat lifecycle --------------------------------------------------------------------


async def test_migrate_chat_moves_characters_messages_and_choices(
    session_factory: Factory,
) -> None:
    new_group = -1001234567890
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, GROUP, "Ada")
        stays = await make_character(session, BOB, OTHER_GROUP, "Stays")
        await say(session, ada, "hello group", author_id=None, telegram_message_id=7)
        await say(session, stays, "other group", author_id=None, telegram_message_id=7)
        await queries.set_active_character(session, GROUP, 0, ada.id)
        await queries.set_active_character(session, GROUP, ALICE, ada.id)
        # A choice made in the supergroup before the migration notice arrived wins.
        fresh = await make_character(session, BOB, new_group, "Fresh")
        await queries.set_active_character(session, new_group, ALICE, fresh.id)

    async with session_factory() as session, session.begin():
        await queries.migrate_chat(session, GROUP, new_group)

    async with session_factory() as session:
        moved = await queries.get_character(session, ada.id)
        assert moved is not None and moved.chat_id == new_group
        assert await queries.character_for_telegram_message(session, new_group, 7) == moved
        assert await queries.character_for_telegram_message(session, GROUP, 7) is None
        assert [m.chat_id for m in await queries.last_turns(session, ada.id, 5)] == [new_group]
        assert await queries.get_active_character(session, new_group, 0) == moved
        alices = await queries.get_active_character(session, new_group, ALICE)
        assert alices is not None and alices.id == fresh.id
        assert await queries.recent_characters(session, GROUP) == []
        assert {c.id for c in await queries.recent_characters(session, new_group)} == {
            ada.id,
            fresh.id,
        }
        untouched = await queries.character_for_telegram_message(session, OTHER_GROUP, 7)
        assert untouched == stays
        leftovers = await session.execute(
            text("SELECT COUNT(*) FROM active_characters WHERE chat_id = :c"), {"c": GROUP}
        )
        assert leftovers.scalar() == 0


async def test_prune_history_before_a_cutoff(session_factory: Factory) -> None:
    now = datetime.now(UTC)
    async with session_factory() as session, session.begin():
        ada = await make_character(session, ALICE, ALICE)
        old = [await say(session, ada, f"old {i}", author_id=ALICE) for i in range(3)]
        await say(session, ada, "new", author_id=ALICE)
        await session.execute(
            update(Message)
            .where(Message.id.in_([m.id for m in old]))
            .values(created_at=now - timedelta(days=40))
        )

    async with session_factory() as session, session.begin():
        # A cutoff in another timezone means the same instant.
        cutoff = (now - timedelta(days=30)).astimezone(ZoneInfo("Asia/Shanghai"))
        assert await queries.prune_history(session, cutoff) == Pruned(3, 0, 0)
        with pytest.raises(ValueError, match="timezone"):
            await queries.prune_history(session, datetime(2020, 1, 1))
    async with session_factory() as session:
        remaining = await queries.last_turns(session, ada.id, 10)
    assert [m.text for m in remaining] == ["new"]


async def test_stats_counts_rows(session_factory: Factory) -> None:
    async with session_factory() as session, session.begin():
        assert await queries.stats(session) == Stats(users=0, characters=0, messages=0)
        ada = await make_character(session, ALICE, ALICE)
        await make_character(session, BOB, BOB)
        await make_character(session, BOB, GROUP)
        await say(session, ada, "one", author_id=ALICE)
        await say(session, ada, "two", author_id=None)
        assert await queries.stats(session) == Stats(users=2, characters=3, messages=2)


async def test_a_new_engine_on_the_same_file_sees_everything(database_url: str) -> None:
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        await queries.upsert_user(session, ALICE, "Alice", language_hint="zh")
        ada = await make_character(session, ALICE, GROUP)
        turn = await say(session, ada, "remember me", author_id=ALICE, telegram_message_id=5)
        await queries.set_active_character(session, GROUP, 0, ada.id)
        await queries.set_share_code(session, ada.id, "keep")
    await engine.dispose()

    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    async with factory() as session:
        assert await queries.get_user_language(session, ALICE) == "zh"
        assert await queries.get_character(session, ada.id) == replace(ada, share_code="keep")
        assert await queries.last_turns(session, ada.id, 5) == [turn]
        assert await queries.character_for_telegram_message(session, GROUP, 5) is not None
        active = await queries.get_active_character(session, GROUP, 0)
        assert active is not None and active.id == ada.id
    await engine.dispose()
