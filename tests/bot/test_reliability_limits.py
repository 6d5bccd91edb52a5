"""Limits: a bounded queue, per-user limits, allow-lists and the admins' /stats."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from reliability_kit import (
    answer_to,
    bot_running,
    eventually,
    exchange,
    photo_bytes,
    seed_character,
    shown_after,
    text_is,
)
from tiny_checkpoints import TinyModels

from bot.texts import TEXTS
from inference.actor import Actor


async def test_a_full_queue_says_busy_at_once(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    sessions: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = [FakeUser(3001 + i, f"User{i}", f"queue{i}", language_code="en") for i in range(3)]
    settings = bot_settings(telegram, database, tiny_models, image_model="", queue_size=1)
    gate = threading.Event()
    async with bot_running(settings, None) as app:
        actor: Actor = app.bot_data["services"].actor
        model = actor._models.dialogue.model
        real_generate = model.generate

        def held(*args: Any, **kwargs: Any) -> Any:
            gate.wait(30)
            return real_generate(*args, **kwargs)

        monkeypatch.setattr(model, "generate", held)
        for user in users:
            await seed_character(sessions, user)
        try:
            running = telegram.send_text(users[0], None, "first, running")
            await eventually(lambda: actor.queue_depth == 1)
            waiting = telegram.send_text(users[1], None, "second, waiting")
            await eventually(lambda: actor.queue_depth == 2)
            # The queue (size 1) is full: refused at once, not after the others.
            refused = await exchange(telegram, users[2], "third, refused")
            assert refused.params["text"] == TEXTS["busy"]["en"]
            assert not [c for c in telegram.calls if c.method == "sendMessage" and c.ok][2:]
        finally:
            gate.set()
        for message in (running, waiting):
            answer = await answer_to(telegram, message)
            assert answer.params["text"] not in (TEXTS["busy"]["en"], TEXTS["try_again"]["en"])
        # With room again, the refused user is served.
        await answer_to(telegram, telegram.send_text(users[2], None, "third, again"))


async def test_photos_per_hour_are_limited_and_unreadable_ones_do_not_count(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    alice: FakeUser,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, max_photos_per_hour=1)
    async with bot_running(settings, tiny_actor):
        since = len(telegram.calls)
        telegram.send_photo(alice, None, b"not a photo at all")
        await shown_after(telegram, since, text_is("not_an_image", "en", alice.id))
        telegram.send_photo(alice, None, photo_bytes())
        await telegram.wait_for("sendPhoto", timeout=60)
        await telegram.wait_idle()
        since = len(telegram.calls)
        telegram.send_photo(alice, None, photo_bytes())
        await shown_after(telegram, since, text_is("photo_limit", "en", alice.id))
        await telegram.wait_idle()
    assert not [c for c in telegram.calls[since:] if c.method == "getFile"]


async def test_only_allowed_users_and_chats_are_served(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    alice: FakeUser,
    li: FakeUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    allowed_group, other_group = FakeChat.group(-4001, "Family"), FakeChat.group(-4002, "Other")
    settings = bot_settings(
        telegram,
        database,
        tiny_models,
        allowed_user_ids=frozenset({alice.id}),
        allowed_chat_ids=frozenset({allowed_group.id}),
    )
    async with bot_running(settings, tiny_actor):
        assert (await exchange(telegram, alice, "/help")).params["text"] == TEXTS["help"]["en"]
        with caplog.at_level(logging.INFO, logger="bot.handlers.gate"):
            turned_away = await exchange(telegram, li, "/help")
        assert turned_away.params["text"] == TEXTS["not_allowed"]["zh"]
        # The operator's log names who was turned away, to add to ALLOWED_USER_IDS if wanted.
        assert any(f"user {li.id} " in r.getMessage() for r in caplog.records)
        telegram.send_text(li, allowed_group, "/help")
        await telegram.wait_for("sendMessage", lambda c: c.chat_id == allowed_group.id)
        telegram.send_text(li, other_group, "/help")
        telegram.send_photo(li, other_group, photo_bytes(), caption="/talk")
        await telegram.wait_idle(quiet=0.5)
    assert not [c for c in telegram.calls if c.chat_id == other_group.id]


async def test_stats_answer_admins_only(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    li: FakeUser,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, admin_user_ids=frozenset({alice.id}))
    async with bot_running(settings, tiny_actor):
        await seed_character(sessions, li)
        await answer_to(telegram, telegram.send_text(li, None, "你好"))
        telegram.send_text(li, None, "/stats")
        await telegram.wait_idle(quiet=0.5)
        to_li = [c for c in telegram.calls if c.method == "sendMessage" and c.chat_id == li.id]
        stats = await exchange(telegram, alice, "/stats")
    lines = dict(line.split(": ", 1) for line in stats.params["text"].split("\n"))
    assert lines["users"] == "1" and lines["characters"] == "1" and lines["messages"] == "2"
    assert lines["queue"].isdigit()
    assert lines["text"].startswith("p50 ") and lines["mouths"] and lines["video"]
    # li's /stats got nothing at all: the reply to "你好" is the only message li ever received.
    assert len(to_li) == 1
