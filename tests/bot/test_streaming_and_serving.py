"""The bot with caption and dialogue served by a real `transformers serve` (LLM_API_BASE):
replies stream as drafts in private chats, groups get the final message only, and a server
that is down gets users a clear message while pictures keep working."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings, photo_bytes, tiny_inference_config
from fake_telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser
from llm_server import LLMServer, free_port
from reliability_kit import seed_character
from sqlalchemy import select
from tiny_checkpoints import TinyModels

from bot.app import build_application, running
from bot.settings import Settings
from bot.texts import TEXTS
from inference.actor import Actor
from inference.config import InferenceConfig
from inference.text.remote_engine import RemoteEngine
from storage.models import Message

pytestmark = pytest.mark.serving

FAMILY = FakeChat.supergroup(-1001234567891, "Family")


def served(vlm: Path, base_url: str) -> dict[str, Any]:
    """Caption and dialogue go to the engine: the tiny chat VLM captions (a Qwen-VL processor
    would need torchvision), the tiny Qwen2 talks; served models are named by folder."""
    return {"llm_api_base": base_url, "caption_model": str(vlm)}


@pytest.fixture(scope="session")
def served_actor(
    llm_server: LLMServer, tiny_models: TinyModels, tiny_chat_vlm: Path
) -> Iterator[Actor]:
    """An actor whose words come from the engine; only the picture model is loaded here."""
    config = tiny_inference_config(tiny_models, **served(tiny_chat_vlm, llm_server.base_url))
    actor = Actor.load(config)
    yield actor
    actor.close()


@pytest.fixture
def served_settings(
    telegram: FakeTelegram,
    database: Path,
    tiny_models: TinyModels,
    tiny_chat_vlm: Path,
    llm_server: LLMServer,
) -> Settings:
    extra = served(tiny_chat_vlm, llm_server.base_url)
    return bot_settings(telegram, database, tiny_models, **extra)


@pytest.fixture
async def served_bot(served_settings: Settings, served_actor: Actor) -> AsyncIterator[Any]:
    application = build_application(served_settings, actor=served_actor)
    async with running(application, poll_timeout=1) as app:
        yield app


def answers(message: FakeMessage) -> Any:
    """A wait_for predicate: the bot's message replying to `message` (not a status note)."""
    return lambda call: (
        call.ok
        and call.message is not None
        and call.message.chat_id == message.chat_id
        and call.message.reply_to_message_id == message.message_id
        and not str(call.params.get("text", "")).startswith(("👀", "💭", "🎨", "✅"))
    )


def draft_calls_before(telegram: FakeTelegram, chat_id: int, final: Any) -> list[Any]:
    """sendMessageDraft calls into `chat_id` made before the call `final`."""
    before = telegram.calls[: telegram.calls.index(final)]
    return [c for c in before if c.method == "sendMessageDraft" and c.chat_id == chat_id]


def assert_drafts_then_final(telegram: FakeTelegram, chat_id: int, first: Any, reply: Any) -> None:
    """Each of two lines was drafted while written, under its own draft id, before it was sent."""
    first_drafts = draft_calls_before(telegram, chat_id, first)
    reply_drafts = [
        c for c in draft_calls_before(telegram, chat_id, reply) if c not in first_drafts
    ]
    assert first_drafts and reply_drafts
    assert all(c.ok for c in first_drafts + reply_drafts)
    assert len({c.params["draft_id"] for c in first_drafts}) == 1
    assert {c.params["draft_id"] for c in reply_drafts}.isdisjoint(
        {c.params["draft_id"] for c in first_drafts}
    )


async def test_in_a_private_chat_lines_stream_as_drafts_then_arrive_whole(
    telegram: FakeTelegram, served_bot: Any, alice: FakeUser, sessions: Any
) -> None:
    photo = telegram.send_photo(alice, None, photo_bytes())
    first = await telegram.wait_for("sendMessage", answers(photo), timeout=120)
    await telegram.wait_for("sendPhoto", lambda c: c.ok, timeout=120)  # pictures still drawn
    said = telegram.send_text(alice, None, "Hello! What is your name?")
    reply = await telegram.wait_for("sendMessage", answers(said), timeout=120)

    assert_drafts_then_final(telegram, alice.id, first, reply)
    # The final messages are what was stored, after the drafts.
    async with sessions() as session:
        lines = (
            await session.scalars(
                select(Message.text).where(Message.role == "character").order_by(Message.id)
            )
        ).all()
    assert lines == [first.params["text"], reply.params["text"]]


async def test_in_a_group_only_the_final_line_is_sent(
    telegram: FakeTelegram, served_bot: Any, alice: FakeUser
) -> None:
    photo = telegram.send_photo(alice, FAMILY, photo_bytes(), caption="/talk Hello, all!")
    first = await telegram.wait_for("sendMessage", answers(photo), timeout=120)
    assert first.message is not None
    said = telegram.send_text(alice, FAMILY, "Hello everyone!", reply_to=first.message)
    reply = await telegram.wait_for("sendMessage", answers(said), timeout=120)
    assert reply.params["text"].strip()
    assert [c for c in telegram.calls if c.method == "sendMessageDraft"] == []


async def test_when_the_engine_is_down_users_hear_it_and_pictures_still_work(
    telegram: FakeTelegram,
    served_bot: Any,
    served_actor: Actor,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
) -> None:
    photo = telegram.send_photo(alice, None, photo_bytes())
    await telegram.wait_for("sendMessage", answers(photo), timeout=120)
    await telegram.wait_for("sendPhoto", lambda c: c.ok, timeout=120)

    # The engine goes away: a fresh engine at a port where nothing listens.
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    down = RemoteEngine(InferenceConfig("caption", "dialogue", llm_api_base=nobody, llm_retries=2))
    monkeypatch.setattr("inference.text.remote_engine.FIRST_RETRY_DELAY_S", 0.01)
    monkeypatch.setattr(served_actor, "_engine", down)
    engine_down = set(TEXTS["engine_down"].values())
    with caplog.at_level(logging.ERROR, logger="inference.text.remote_engine"):
        telegram.send_text(alice, None, "Are you there?")
        await telegram.wait_for(
            "sendMessage", lambda c: c.ok and c.params["text"] in engine_down, timeout=60
        )
        telegram.send_photo(alice, None, photo_bytes((90, 120, 200)))
        await telegram.wait_for(
            "editMessageText", lambda c: c.ok and c.params["text"] in engine_down, timeout=60
        )
    assert len([r for r in caplog.records if "not answering" in r.getMessage()]) == 1
    # What needs no language model still works: the picture is drawn again.
    command = telegram.send_text(alice, None, "/image")
    picture = await telegram.wait_for("sendPhoto", answers(command), timeout=120)
    assert picture.message is not None and picture.message.file_bytes


async def test_in_process_lines_stream_as_drafts_too(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    """The same with the models in the bot's own worker (tokens streamed from `generate`)."""
    photo = telegram.send_photo(alice, None, photo_bytes(), caption="Hello! What is your name?")
    first = await telegram.wait_for("sendMessage", answers(photo), timeout=120)
    said = telegram.send_text(alice, None, "Nice to meet you. 今天你想聊什么？")
    reply = await telegram.wait_for("sendMessage", answers(said), timeout=120)
    assert_drafts_then_final(telegram, alice.id, first, reply)


async def test_a_long_conversation_fits_a_served_model_with_a_short_context(
    telegram: FakeTelegram,
    served_bot: Any,
    llm_server: LLMServer,
    alice: FakeUser,
    sessions: Any,
    caplog: Any,
) -> None:
    """The engine reads 768 tokens (`--max-model-len`), less than this conversation: every
    message is answered, the history is cut to fit, and no refusal reaches the user."""
    photo = telegram.send_photo(alice, None, photo_bytes())
    await telegram.wait_for("sendMessage", answers(photo), timeout=120)
    failures = {text for key in ("try_again", "engine_down") for text in TEXTS[key].values()}
    with caplog.at_level(logging.INFO):
        for turn in range(8):
            said = telegram.send_text(alice, None, f"Turn {turn}: tell me about your day, please!")
            reply = await telegram.wait_for("sendMessage", answers(said), timeout=120)
            assert reply.params["text"] not in failures
    async with sessions() as session:
        turns = (await session.scalars(select(Message.text).order_by(Message.id))).all()
    assert len(turns) == 1 + 2 * 8  # the first line, then every message and its answer
    # The whole conversation is longer than the model reads: the prompts were cut to fit.
    assert sum(len(text.encode()) for text in turns) > llm_server.context_tokens
    assert any(
        f"at most {llm_server.context_tokens} tokens" in r.getMessage() for r in caplog.records
    )


async def test_a_prompt_that_can_never_fit_gets_a_try_again_and_takes_the_turn_back(
    telegram: FakeTelegram,
    served_bot: Any,
    served_settings: Settings,
    alice: FakeUser,
    sessions: Any,
) -> None:
    """A character card longer than the served model reads: the refusal is not said as is,
    the user is asked to try again, and the unanswered message is not kept."""
    await seed_character(sessions, alice, description="A woman with a very long story. " * 30)
    telegram.send_text(alice, None, "Hello Anna!")
    try_again = TEXTS["try_again"]["en"]
    await telegram.wait_for(
        "sendMessage", lambda c: c.chat_id == alice.id and c.params["text"] == try_again
    )
    async with sessions() as session:
        kept = (await session.scalars(select(Message.text))).all()
    assert kept == []
