"""Faults: Telegram flood limits, 5xx, timeouts, a lost network, and models that fail or hang."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from bot_kit import bot_settings, free_port, photo_bytes
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from reliability_kit import (
    answer_to,
    bot_running,
    eventually,
    exchange,
    seed_character,
    shown_after,
    text_is,
)
from telegram import Bot
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from tiny_checkpoints import TinyModels

from bot.sending.bot_api import SEND_ATTEMPTS, may_repeat
from bot.texts import TEXTS
from storage import queries


def calls_of(telegram: FakeTelegram, method: str, since: int = 0) -> list[Any]:
    return [c for c in telegram.calls[since:] if c.method == method]


async def test_a_flood_limit_is_waited_out_and_the_message_arrives(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.fail_next("sendMessage", status=429, retry_after=1)
    telegram.send_text(alice, None, "/help")
    await telegram.wait_for("sendMessage", text_is("help", "en", alice.id), timeout=15)
    refused, delivered = calls_of(telegram, "sendMessage")
    assert "Too Many Requests" in (refused.error or "") and delivered.ok


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_retried_until_the_message_arrives(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, status: int
) -> None:
    telegram.fail_next("sendMessage", status=status, count=2)
    telegram.send_text(alice, None, "/help")
    await telegram.wait_for("sendMessage", text_is("help", "en", alice.id), timeout=15)
    assert [c.ok for c in calls_of(telegram, "sendMessage")] == [False, False, True]


async def test_a_slow_send_is_not_sent_again(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    # The answer comes after the client stopped waiting: PTB raises TimedOut, although
    # Telegram carried the call out. Sending it again would show the user the line twice.
    bot.bot.request._client.timeout = httpx.Timeout(5.0, read=0.5)
    telegram.delay_next("sendMessage", 2.0)
    telegram.send_text(alice, None, "/help")
    await telegram.wait_for("sendMessage", text_is("help", "en", alice.id), timeout=15)
    await telegram.wait_idle(quiet=3.0, timeout=30)  # past every retry's backoff
    helps = [m for m in telegram.bot_messages(alice.id) if m.text == TEXTS["help"]["en"]]
    assert len(helps) == 1
    assert (
        len([c for c in calls_of(telegram, "sendMessage") if c.params["text"] == helps[0].text])
        == 1
    )


async def test_a_slow_file_lookup_is_asked_again(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    # getFile only reads: asking again is safe, and the photo is still met.
    bot.bot.request._client.timeout = httpx.Timeout(5.0, read=0.5)
    telegram.delay_next("getFile", 2.0)
    since = len(telegram.calls)
    telegram.send_photo(alice, None, photo_bytes())
    await telegram.wait_for("sendMessage", lambda c: c.chat_id == alice.id, timeout=60)
    await telegram.wait_for("editMessageText", timeout=60)  # the status note moved on
    assert len(calls_of(telegram, "getFile", since)) == 2


async def test_only_failures_before_the_request_left_may_repeat_a_send(
    telegram: FakeTelegram, alice: FakeUser
) -> None:
    """Real PTB requests, real failures: which of them may be tried again."""
    telegram.add_chat(FakeChat.private(alice), alice)
    nowhere = Bot(telegram.token, base_url=f"http://127.0.0.1:{free_port()}/bot")
    bot = Bot(telegram.token, base_url=telegram.base_url, request=HTTPXRequest(read_timeout=0.3))
    failures: dict[str, TelegramError] = {}
    async with nowhere.request, bot.request:
        with pytest.raises(NetworkError) as refused:
            await nowhere.send_message(alice.id, "x")
        failures["refused"] = refused.value
        telegram.delay_next("sendMessage", 1.0)
        with pytest.raises(TimedOut) as slow:
            await bot.send_message(alice.id, "x")
        failures["slow"] = slow.value
        telegram.fail_next("sendMessage", status=502)
        with pytest.raises(NetworkError) as bad_gateway:
            await bot.send_message(alice.id, "x")
        failures["502"] = bad_gateway.value
        telegram.set_offline(True)
        with pytest.raises(NetworkError) as dropped:
            await bot.send_message(alice.id, "x")
        failures["dropped"] = dropped.value
    telegram.set_offline(False)
    assert {name: may_repeat(exc, reads_only=False) for name, exc in failures.items()} == {
        "refused": True,  # never reached Telegram
        "slow": False,  # carried out, answered late
        "502": True,  # Telegram's gateway answered that it did nothing
        "dropped": False,  # the request was sent: it may have been carried out
    }
    assert all(may_repeat(exc, reads_only=True) for exc in failures.values())


async def test_persistent_send_failure_gives_up_but_the_characters_turn_is_stored(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    sessions: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    character = await seed_character(sessions, alice)
    telegram.fail_next("sendMessage", status=502, count=SEND_ATTEMPTS)  # every attempt
    telegram.send_text(alice, None, "Are you there?")
    await eventually(lambda: "it is stored" in caplog.text)
    failed = calls_of(telegram, "sendMessage")
    assert len(failed) == SEND_ATTEMPTS and not any(c.ok for c in failed)  # bounded
    async with sessions() as session:
        turns = await queries.last_turns(session, character.id, 10)
    assert [t.role for t in turns] == ["user", "character"]
    assert turns[1].text == failed[0].params["text"] and turns[1].telegram_message_id is None
    # Telegram is back: the next message is answered, with the undelivered turn remembered.
    await answer_to(telegram, telegram.send_text(alice, None, "Now?"))
    async with sessions() as session:
        turns = await queries.last_turns(session, character.id, 10)
    assert [t.role for t in turns] == ["user", "character"] * 2


async def test_a_failed_download_is_explained(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.fail_next("getFile", status=400, description="Bad Request: wrong file_id")
    since = len(telegram.calls)
    telegram.send_photo(alice, None, photo_bytes())
    await shown_after(telegram, since, text_is("download_failed", "en", alice.id))


async def test_polling_resumes_by_itself_after_the_network_was_down(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    await telegram.wait_idle()
    telegram.set_offline(True)
    await eventually(lambda: "while polling for updates" in caplog.text)  # it failed for real
    telegram.set_offline(False)
    telegram.send_text(alice, None, "/help")
    await telegram.wait_for("sendMessage", text_is("help", "en", alice.id), timeout=30)


async def test_a_failing_model_says_try_again_and_the_next_message_is_answered(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    sessions: Any,
    tiny_actor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed_character(sessions, alice)
    model = tiny_actor._models.dialogue.model
    real_generate = model.generate
    failures = [RuntimeError("CUDA out of memory")]

    def generate(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", generate)
    answer = await exchange(telegram, alice, "Hello?")
    assert answer.params["text"] == TEXTS["try_again"]["en"]
    answer = await exchange(telegram, alice, "Hello again?")
    assert answer.params["text"] != TEXTS["try_again"]["en"]


async def test_a_stuck_model_times_out_and_the_bot_recovers(
    telegram: FakeTelegram,
    alice: FakeUser,
    tiny_models: TinyModels,
    database: Path,
    sessions: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, image_model="", stage_timeout_s=1.0)
    release = threading.Event()
    async with bot_running(settings, None) as app:
        await seed_character(sessions, alice)
        model = app.bot_data["services"].actor._models.dialogue.model
        real_generate = model.generate

        def stuck_once(*args: Any, **kwargs: Any) -> Any:
            if not release.is_set():
                release.wait(30)
            return real_generate(*args, **kwargs)

        monkeypatch.setattr(model, "generate", stuck_once)
        try:
            answer = await exchange(telegram, alice, "Hello?")
            assert answer.params["text"] == TEXTS["try_again"]["en"]
        finally:
            release.set()
        answer = await exchange(telegram, alice, "Still there?")
        assert answer.params["text"] != TEXTS["try_again"]["en"]
