"""The reply language: the user's /lang choice wins; without one, their message's (issue 12,
item 12). Read off the prompt the dialogue model receives, not off an argument."""

from __future__ import annotations

from typing import Any

import pytest
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import exchange, seed_character

from inference.actor import Actor
from inference.types import ChatRequest

ANSWER_IN = {"en": "Answer in English", "zh": "用中文回答"}  # inference/text/prompts.py's rule


async def test_lang_decides_the_reply_language_else_the_message_does(
    telegram: FakeTelegram,
    bot: Any,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    li: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialogue = tiny_actor._models.dialogue
    assert dialogue is not None
    prompts: list[str] = []
    generate = dialogue.generate

    def recording(requests: list[ChatRequest], on_text: Any = None) -> list[str]:
        prompts.extend(r.messages[0]["content"] for r in requests if r.messages)
        return generate(requests, on_text)

    monkeypatch.setattr(dialogue, "generate", recording)
    await seed_character(sessions, li)  # a Chinese-speaking user and character
    await seed_character(sessions, alice)  # an English-speaking one
    await exchange(telegram, li, "/lang en")
    await exchange(telegram, li, "你好")  # chose English: answered in English
    said_by_li = list(prompts)
    await exchange(telegram, alice, "你好")  # no choice made: the message decides
    said_by_alice = prompts[len(said_by_li) :]
    assert said_by_li and all(ANSWER_IN["en"] in prompt for prompt in said_by_li)
    assert said_by_alice and all(ANSWER_IN["zh"] in prompt for prompt in said_by_alice)
