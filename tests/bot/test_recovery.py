"""What a stopped process took and never answered, found at the next start: answered when it
is recent, its sender asked to send it again when it is not. (A real kill of `photo-talk
run` is in test_reliability_process.py.)"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import replies_to, seed_character
from sqlalchemy import select

from bot.app import build_application, running
from bot.settings import Settings
from bot.texts import TEXTS
from inference.actor import Actor
from storage import queries
from storage.migrate import upgrade_database_async
from storage.models import Arrival

UPDATE_IDS = itertools.count(900_001)  # what the last process had fetched


async def taken_before_a_stop(
    telegram: FakeTelegram, sessions: Any, user: FakeUser, said: str, age: timedelta
) -> Any:
    """A message the last process fetched `age` ago and kept, but never answered."""
    chat = user.private_chat()
    telegram.world.register(chat, user)
    message = telegram.world.add_message(chat, {"text": said}, sender=user)
    update = {"update_id": next(UPDATE_IDS), "message": dict(message.data)}
    async with sessions() as session, session.begin():
        await queries.keep_arrival(
            session,
            update_id=update["update_id"],
            chat_id=chat.id,
            user_id=user.id,
            telegram_message_id=message.message_id,
            payload=json.dumps(update),
        )
        row = await session.get(Arrival, update["update_id"])
        row.received_at = datetime.now(UTC) - age
    return message


async def test_a_restart_answers_recent_messages_and_asks_for_old_ones_again(
    telegram: FakeTelegram,
    settings: Settings,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    li: FakeUser,
    database_url: str,
) -> None:
    await upgrade_database_async(database_url)  # the schema the last process left
    character = await seed_character(sessions, alice)
    recent = await taken_before_a_stop(telegram, sessions, alice, "Are you there?", timedelta(0))
    old = await taken_before_a_stop(telegram, sessions, li, "你好？", timedelta(hours=2))

    async with running(build_application(settings, actor=tiny_actor), poll_timeout=1):
        answer = await telegram.wait_for("sendMessage", replies_to(recent), timeout=60)
        again = await telegram.wait_for("sendMessage", replies_to(old), timeout=60)
        for _ in range(100):  # settled once the answer is done
            async with sessions() as session:
                stored = (await session.scalars(select(Arrival.update_id))).all()
            if not stored:
                break
            await asyncio.sleep(0.05)
        async with sessions() as session:
            turns = await queries.last_turns(session, character.id, 10)

    assert answer.params["text"] not in TEXTS["send_again"].values()
    assert again.params["text"] == TEXTS["send_again"]["zh"]  # in the sender's language
    assert [t.text for t in turns if t.role == "user"] == ["Are you there?"]
    assert stored == []  # both settled: nothing is answered twice at the next start
