"""Chat actions: shown only while work is slow, and outside the groups' message budget."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_telegram import FakeChat, FakeTelegram
from telegram.ext import ExtBot

from bot.sending import bot_api
from bot.sending.bot_api import RetryingRateLimiter, action_while_slow


class RecordingBot:
    """Records chat actions; the real Bot's send_chat_action is tested end to end."""

    def __init__(self, wanted: int = 0) -> None:
        self.actions: list[tuple[int, str]] = []
        self.enough = asyncio.Event()
        self.wanted = wanted

    async def send_chat_action(self, chat_id: int, action: str) -> bool:
        self.actions.append((chat_id, action))
        if len(self.actions) >= self.wanted:
            self.enough.set()
        return True


async def test_fast_work_shows_no_action() -> None:
    bot = RecordingBot()
    async with action_while_slow(bot, 7, after_s=60):  # type: ignore[arg-type]
        await asyncio.sleep(0)
    assert bot.actions == []


async def test_slow_work_keeps_the_action_shown_until_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot_api, "ACTION_REFRESH_S", 0.01)
    bot: Any = RecordingBot(wanted=3)
    async with action_while_slow(bot, 7, "upload_photo", after_s=0):
        await bot.enough.wait()  # Telegram's action fades after 5 s: it is sent again
    shown = len(bot.actions)
    await asyncio.sleep(0.05)
    assert bot.actions[:3] == [(7, "upload_photo")] * 3
    assert len(bot.actions) == shown  # nothing more once the work is done


async def test_chat_actions_do_not_use_up_a_groups_message_budget(
    telegram: FakeTelegram,
) -> None:
    group = telegram.add_chat(FakeChat.group(-5001, "Budget"))
    limiter = RetryingRateLimiter(group_max_rate=2, group_time_period=60)
    bot = ExtBot(telegram.token, base_url=telegram.base_url, rate_limiter=limiter)
    async with bot, asyncio.timeout(20):
        for _ in range(5):
            await bot.send_chat_action(group.id, "typing")
        # Both of the group's messages for this minute are still there, without waiting.
        await bot.send_message(group.id, "one")
        await bot.send_message(group.id, "two")
    assert len(telegram.chat_actions) == 5
    assert [m.text for m in telegram.bot_messages(group)] == ["one", "two"]
