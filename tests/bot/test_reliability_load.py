"""Load: 50 people at once, each gets every answer, in their own chat, nothing mixed or lost."""

from __future__ import annotations

import asyncio
import io
import resource
import time
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings
from fake_telegram import FakeTelegram, FakeUser
from PIL import Image
from reliability_kit import bot_running, photo_bytes, replies_to
from sqlalchemy import select
from tiny_checkpoints import TinyModels

from bot.texts import TEXTS
from storage import queries
from storage.models import Character

USERS = 50


@pytest.mark.slow
async def test_fifty_people_at_once_all_get_their_own_answers(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    sessions: Any,
    record_property: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    users = [
        FakeUser(10_000 + i, f"Load{i}", f"load{i}", language_code="zh" if i % 2 else "en")
        for i in range(USERS)
    ]
    # Each photo has its own size: the talking picture (drawn at the photo's size) shows whose.
    sizes = {u.id: (64 + 2 * i, 96) for i, u in enumerate(users)}
    # No diffusion (the bubble goes on the photo) and batches of 16: this is about the bot.
    settings = bot_settings(telegram, database, tiny_models, image_model="", max_batch_size=16)
    async with bot_running(settings, None):
        started = time.perf_counter()

        async def converse(user: FakeUser) -> tuple[Any, Any]:
            """A photo, and the text the moment the first line is there: every user's text
            arrives while other users' photos are still being looked at and drawn."""
            photo = telegram.send_photo(user, None, photo_bytes(size=sizes[user.id]))
            line = await telegram.wait_for(
                "sendMessage",
                lambda c: replies_to(photo)(c) and not c.params["text"].startswith("👀"),
                timeout=240,
            )
            said = telegram.send_text(user, None, f"Hello from {user.first_name}!")
            answer = await telegram.wait_for("sendMessage", replies_to(said), timeout=240)
            return line, answer

        conversations = await asyncio.gather(*(converse(u) for u in users))
        lines = [line for line, _ in conversations]
        answers = [answer for _, answer in conversations]
        pictures = await asyncio.gather(
            *(
                telegram.wait_for("sendPhoto", lambda c, u=u: c.chat_id == u.id, timeout=240)
                for u in users
            )
        )
        elapsed = time.perf_counter() - started
        # Texts really overlapped with other users' photos: some text was answered before
        # the last picture was sent.
        order = {id(call): i for i, call in enumerate(telegram.calls)}
        assert min(order[id(a)] for a in answers) < max(order[id(p)] for p in pictures)
        await telegram.wait_idle(timeout=60)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record_property("load_seconds", round(elapsed, 1))
    record_property("peak_rss_mb", round(peak_rss_mb))
    with capsys.disabled():
        print(f"\n{USERS} users, photo + text each: {elapsed:.1f} s, peak RSS {peak_rss_mb:.0f} MB")

    refusals = {TEXTS[key][lang] for key in ("busy", "try_again") for lang in ("zh", "en")}
    for user, line, picture, answer in zip(users, lines, pictures, answers, strict=True):
        for call in (line, picture, answer):
            assert call.chat_id == user.id
        assert line.params["text"] not in refusals and answer.params["text"] not in refusals
        assert picture.message is not None and picture.message.file_bytes is not None
        assert Image.open(io.BytesIO(picture.message.file_bytes)).size == sizes[user.id]
        assert picture.message.reply_to_message_id == line.message.message_id
    async with sessions() as session:
        characters = (await session.scalars(select(Character))).all()
        assert sorted(c.owner_id for c in characters) == [u.id for u in users]
        for character in characters:
            assert character.chat_id == character.owner_id
            turns = await queries.last_turns(session, character.id, 10)
            assert [t.role for t in turns] == ["character", "user", "character"]
            assert all(t.chat_id == character.chat_id for t in turns)
            name = next(u.first_name for u in users if u.id == character.owner_id)
            assert turns[1].text == f"Hello from {name}!"
