"""The reply language: the user's /lang choice wins; without one, their message's (issue 12,
item 12)."""

from __future__ import annotations

from typing import Any

import pytest
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import exchange, seed_character

from inference.actor import Actor


async def test_lang_decides_the_reply_language_else_the_message_does(
    telegram: FakeTelegram,
    bot: Any,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    li: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, str | None]] = []
    real_reply = tiny_actor.reply

    async def reply(*args: Any, **kwargs: Any) -> str:
        asked.append((args[2], kwargs.get("language")))
        return await real_reply(*args, **kwargs)

    monkeypatch.setattr(tiny_actor, "reply", reply)
    await seed_character(sessions, li)  # a Chinese-speaking user and character
    await seed_character(sessions, alice)
    await exchange(telegram, li, "/lang en")
    await exchange(telegram, li, "你好")
    await exchange(telegram, alice, "你好")  # no choice made: the message decides
    assert asked == [("你好", "en"), ("你好", None)]
