"""Drafts of a reply being written: the newest text, one request at a time, never after the
final message (the real PTB Bot against the fake Bot API)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from telegram import Bot
from telegram.ext import ExtBot

from bot.sending.bot_api import RetryingRateLimiter
from bot.sending.drafts import DraftStream

ALICE = FakeUser(1001, "Alice", "alice")
GROUP = FakeChat.supergroup(-1001234567890, "Photo club")


@pytest.fixture
async def client(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    telegram.add_chat(FakeChat.private(ALICE), ALICE)
    telegram.add_chat(GROUP, ALICE)
    async with Bot(
        telegram.token, base_url=telegram.base_url, base_file_url=telegram.base_file_url
    ) as bot:
        yield bot


def draft_calls(telegram: FakeTelegram) -> list[Any]:
    return [c for c in telegram.calls if c.method == "sendMessageDraft"]


async def until_calls(telegram: FakeTelegram, count: int) -> None:
    """Wait (up to 10 s) until the fake has answered `count` draft requests, failed or not."""
    for _ in range(500):
        if len(draft_calls(telegram)) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} sendMessageDraft calls")


async def test_the_newest_text_is_drafted_and_nothing_after_finish(
    telegram: FakeTelegram, client: Bot
) -> None:
    drafts = DraftStream(client, ALICE.id, interval_s=0)
    drafts("Hello")
    await asyncio.sleep(0)  # the first draft request is under way
    drafts("Hello there")  # meanwhile the text grows twice: only the newest is sent next
    drafts("Hello there, friend")
    await until_calls(telegram, 2)
    await drafts.finish()
    drafts("Hello there, friend, late")  # the final message is on its way: no more drafts
    await asyncio.sleep(0.05)
    assert telegram.drafts(ALICE.id) == [
        (drafts.draft_id, "Hello"),
        (drafts.draft_id, "Hello there, friend"),
    ]


async def test_a_pause_between_drafts_drops_what_was_not_shown_before_the_end(
    telegram: FakeTelegram, client: Bot
) -> None:
    drafts = DraftStream(client, ALICE.id, interval_s=60)
    drafts("One")
    await until_calls(telegram, 1)
    drafts("One two")  # within the pause: waits for it
    await drafts.finish()  # ... and the reply is done first: dropped
    assert telegram.drafts(ALICE.id) == [(drafts.draft_id, "One")]


async def test_a_refused_draft_ends_the_drafting_quietly(
    telegram: FakeTelegram, client: Bot
) -> None:
    drafts = DraftStream(client, GROUP.id, interval_s=0)  # Telegram drafts only in private
    drafts("Hello")
    await until_calls(telegram, 1)
    await asyncio.sleep(0.05)
    drafts("Hello again")
    await drafts.finish()
    [refused] = draft_calls(telegram)
    assert not refused.ok and "private" in (refused.error or "")


async def test_a_final_message_does_not_wait_behind_drafts_in_the_rate_limiter(
    telegram: FakeTelegram,
) -> None:
    """Many replies stream at once: the limiter is full of drafts when a final line comes."""
    telegram.add_chat(FakeChat.private(ALICE), ALICE)
    room = 5  # messages a second, all chats together (Telegram's is ~30)
    limiter = RetryingRateLimiter(overall_max_rate=room, overall_time_period=1)
    bot = ExtBot(telegram.token, base_url=telegram.base_url, rate_limiter=limiter)
    async with bot, asyncio.timeout(30):
        drafts = [
            asyncio.create_task(bot.send_message_draft(ALICE.id, 1, f"draft {n}"))
            for n in range(4 * room)
        ]
        await asyncio.sleep(0)  # every draft has reached the limiter
        await bot.send_message(ALICE.id, "the final line")
        await asyncio.gather(*drafts)
    wire = [c.method for c in telegram.calls if c.method.startswith("sendMessage")]
    # Only drafts that had the limiter's room before the final line came may precede it.
    assert wire.index("sendMessage") <= room
