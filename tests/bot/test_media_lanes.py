"""Text never waits for media: with a deliberately slow speech checkpoint (a voice takes
seconds to make on a CPU), other chats and the same chat are answered while it is made, and
voices still go out in the order of their lines. Order is read off the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings, tiny_inference_config
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import replies_to, seed_character
from tiny_checkpoints import TinyModels
from tiny_voice_checkpoints import build_speech_checkpoint

from bot.app import build_application, running
from inference.actor import Actor

pytestmark = pytest.mark.slow

# Semantic tokens a line may use: the tiny Bark then needs seconds per voice, many times a
# tiny reply's time, so "answered while the voice is made" is not a race.
SLOW_SEMANTIC_TOKENS = 60


@pytest.fixture(scope="module")
def slow_voice_actor(
    tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Actor]:
    speech = build_speech_checkpoint(
        tmp_path_factory.mktemp("slow_speech"), max_semantic_tokens=SLOW_SEMANTIC_TOKENS
    )
    actor = Actor.load(tiny_inference_config(tiny_models, image_model="", tts_model=str(speech)))
    yield actor
    actor.close()


@pytest.fixture
async def slow_voice_bot(
    telegram: FakeTelegram, database: Path, tiny_models: TinyModels, slow_voice_actor: Actor
) -> AsyncIterator[Any]:
    settings = bot_settings(telegram, database, tiny_models, image_model="")
    async with running(build_application(settings, actor=slow_voice_actor), poll_timeout=1) as app:
        yield app


def position(telegram: FakeTelegram, call: Any) -> int:
    return telegram.calls.index(call)


async def test_a_reply_is_not_held_up_by_another_chats_voice(
    telegram: FakeTelegram, slow_voice_bot: Any, alice: FakeUser, li: FakeUser, sessions: Any
) -> None:
    await seed_character(sessions, alice, name="Anna")
    await seed_character(sessions, li, name="Lin")
    asked = telegram.send_text(alice, None, "Hello Anna!")
    line = await telegram.wait_for("sendMessage", replies_to(asked), timeout=60)
    assert line.message is not None
    speaking = await telegram.wait_for(
        "sendChatAction", lambda c: c.chat_id == alice.id and c.params["action"] == "record_voice"
    )
    # Alice's voice is being made now; Li writes.
    said = telegram.send_text(li, None, "Hi Lin, how are you?")
    reply = await telegram.wait_for("sendMessage", replies_to(said), timeout=60)
    voice = await telegram.wait_for("sendVoice", replies_to(line.message), timeout=120)
    # On the wire: Alice's voice began, Li was answered, then Alice's voice arrived.
    assert position(telegram, speaking) < position(telegram, reply) < position(telegram, voice)


async def test_the_next_message_is_answered_while_the_voice_is_made_and_voices_keep_order(
    telegram: FakeTelegram, slow_voice_bot: Any, alice: FakeUser, sessions: Any
) -> None:
    await seed_character(sessions, alice, name="Anna")
    first = telegram.send_text(alice, None, "Hello Anna!")
    first_line = await telegram.wait_for("sendMessage", replies_to(first), timeout=60)
    second = telegram.send_text(alice, None, "What are you doing today?")
    second_line = await telegram.wait_for("sendMessage", replies_to(second), timeout=60)
    assert first_line.message is not None and second_line.message is not None
    first_voice = await telegram.wait_for("sendVoice", replies_to(first_line.message), timeout=120)
    second_voice = await telegram.wait_for(
        "sendVoice", replies_to(second_line.message), timeout=120
    )
    # Both lines were sent before the first voice: the chat did not wait for it...
    assert position(telegram, second_line) < position(telegram, first_voice)
    # ...and the voices came in the order of their lines.
    assert position(telegram, first_voice) < position(telegram, second_voice)
