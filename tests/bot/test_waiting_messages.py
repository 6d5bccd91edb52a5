"""Messages that arrive while the character answers: kept, in order, answered next (issue 12,
items 1, 2 and 15)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import (
    answer_to,
    bot_running,
    eventually,
    exchange,
    photo_bytes,
    replies_to,
    seed_character,
    sent_texts,
    shown_after,
    text_is,
)
from sqlalchemy import select
from tiny_checkpoints import TinyModels

from bot.texts import TEXTS
from inference.actor import Actor
from storage import queries
from storage.models import Character


def held_generation(actor: Actor, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The dialogue model waits for the returned gate before each generation."""
    model = actor._models.dialogue.model
    real_generate = model.generate
    gate = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", held)
    return gate


async def test_a_burst_is_kept_in_order_and_answered_next_in_one_answer(
    telegram: FakeTelegram,
    bot: Any,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    character = await seed_character(sessions, alice)
    gate = held_generation(tiny_actor, monkeypatch)
    chats = bot.bot_data["services"].chats
    try:
        first = telegram.send_text(alice, None, "first")
        await eventually(lambda: tiny_actor.queue_depth == 1)
        second = telegram.send_text(alice, None, "second")
        third = telegram.send_text(alice, None, "third")
        await eventually(lambda: chats.waiting(alice.id) == 2)
        assert not telegram.calls_to("sendMessage")  # nobody was told "one moment"
    finally:
        gate.set()
    await answer_to(telegram, first)
    await answer_to(telegram, third)
    await telegram.wait_idle(quiet=0.3)
    assert not [c for c in telegram.calls_to("sendMessage") if replies_to(second)(c)]
    assert chats.busy_chats == 0
    async with sessions() as session:
        turns = await queries.last_turns(session, character.id, 10)
    assert [(t.role, t.text if t.role == "user" else "") for t in turns] == [
        ("user", "first"),
        ("character", ""),
        ("user", "second"),
        ("user", "third"),
        ("character", ""),
    ]


async def test_a_failed_answer_takes_the_turn_back_so_a_retry_is_one_turn(
    telegram: FakeTelegram,
    bot: Any,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    character = await seed_character(sessions, alice)
    model = tiny_actor._models.dialogue.model
    real_generate = model.generate
    failures = [RuntimeError("CUDA out of memory")]

    def generate(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", generate)
    assert (await exchange(telegram, alice, "Hello?")).params["text"] == TEXTS["try_again"]["en"]
    assert (await exchange(telegram, alice, "Hello?")).params["text"] != TEXTS["try_again"]["en"]
    async with sessions() as session:
        turns = await queries.last_turns(session, character.id, 10)
    assert [t.role for t in turns] == ["user", "character"]
    assert turns[0].text == "Hello?"


async def test_an_album_is_three_characters_and_only_accepted_photos_count(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, max_photos_per_hour=3)
    async with bot_running(settings, tiny_actor):
        telegram.send_photo(alice, None, b"not a photo at all")  # refused: not counted
        for color in ((200, 150, 120), (120, 90, 70), (230, 190, 170)):
            telegram.send_photo(alice, None, photo_bytes(color))
        for _ in range(3):
            await telegram.wait_for("sendPhoto", timeout=120)
        await telegram.wait_idle(quiet=0.3)
        since = len(telegram.calls)
        telegram.send_photo(alice, None, photo_bytes())
        await shown_after(telegram, since, text_is("photo_limit", "en", alice.id))
    async with sessions() as session:
        made = (await session.scalars(select(Character).filter_by(owner_id=alice.id))).all()
    assert len(made) == 3
    assert TEXTS["not_an_image"]["en"] in sent_texts(telegram)
    assert TEXTS["photo_limit"]["en"] not in sent_texts(telegram)[:-1]


async def test_opening_a_share_link_counts_against_the_photo_limit(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    li: FakeUser,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, max_photos_per_hour=1, image_model="")
    async with bot_running(settings, tiny_actor):
        character = await seed_character(sessions, alice)
        async with sessions() as session, session.begin():
            await queries.set_share_code(session, character.id, "code-for-li")
        opened = await exchange(telegram, li, "/start code-for-li")
        assert opened.params["text"] == TEXTS["share_opened"]["zh"].format(name="Anna")
        await telegram.wait_idle(quiet=0.3)
        again = await exchange(telegram, li, "/start code-for-li")
    assert again.params["text"] == TEXTS["photo_limit"]["zh"]
    async with sessions() as session:
        copies = (await session.scalars(select(Character).filter_by(owner_id=li.id))).all()
    assert len(copies) == 1


async def test_an_unexpected_failure_is_said_and_the_chat_is_served_on(
    telegram: FakeTelegram,
    bot: Any,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed_character(sessions, alice)

    async def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("a bug, not a model failure")

    monkeypatch.setattr(tiny_actor, "describe", broken)
    since = len(telegram.calls)
    telegram.send_photo(alice, None, photo_bytes())
    told = await shown_after(telegram, since, text_is("try_again", "en", alice.id))
    assert told.method == "editMessageText"  # the status note says it, not stuck on "looking"
    answer = await exchange(telegram, alice, "are you still there?")
    assert answer.params["text"] != TEXTS["try_again"]["en"]
    await eventually(lambda: bot.bot_data["services"].chats.busy_chats == 0)
