"""The real `photo-talk run` process: SIGTERM/SIGINT stop it cleanly, a restart keeps history."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bot_kit import free_port
from fake_hub import FakeHub
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import answer_to, photo_bytes, replies_to
from sqlalchemy import select
from tiny_checkpoints import TinyModels

from bot.texts import TEXTS
from storage import queries
from storage.models import Character, Message

STOP_WITHIN_S = 15  # the bound on a clean stop


def bot_env(
    telegram: FakeTelegram, tiny_models: TinyModels, database: Path, **extra: str
) -> dict[str, str]:
    """`photo-talk run`'s environment: the fake Telegram, tiny models, no voice, no network."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TELEGRAM_FILE_BASE_URL": telegram.base_file_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "CAPTION_MODEL": str(tiny_models.caption),
        "DIALOGUE_MODEL": str(tiny_models.dialogue),
        "IMAGE_MODEL": "",
        "TTS_MODEL": "",
        "ASR_MODEL": "",
        "INFERENCE_DEVICE": "cpu",
        "MAX_NEW_TOKENS": "24",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **extra,
    }


async def start_bot(telegram: FakeTelegram, env: dict[str, str], cwd: Path) -> Any:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd, stdout=asyncio.subprocess.DEVNULL
    )
    # Ready once it polls (deleteWebhook comes just before), or once its webhook is set.
    ready = "setWebhook" if env.get("TELEGRAM_WEBHOOK_URL") else "deleteWebhook"
    await telegram.wait_for(ready, timeout=120)
    return process


async def stop_bot(process: Any, signum: int) -> int:
    process.send_signal(signum)
    code: int = await asyncio.wait_for(process.wait(), STOP_WITHIN_S)
    return code


async def test_signals_stop_the_process_cleanly_and_a_restart_keeps_all_history(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    tmp_path: Path,
    database: Path,
    alice: FakeUser,
    sessions: Any,
) -> None:
    env = bot_env(telegram, tiny_models, database)
    process = await start_bot(telegram, env, tmp_path)
    try:
        photo = telegram.send_photo(alice, None, photo_bytes())
        await telegram.wait_for(
            "sendMessage",
            lambda c: replies_to(photo)(c) and c.params["text"] != TEXTS["status_looking"]["en"],
            timeout=60,
        )
        await answer_to(telegram, telegram.send_text(alice, None, "Do you remember me?"), 60)
        await telegram.wait_for("sendPhoto", timeout=60)
        assert await stop_bot(process, signal.SIGTERM) == 0

        process = await start_bot(telegram, env, tmp_path)
        await answer_to(telegram, telegram.send_text(alice, None, "I'm back."), 60)
        assert await stop_bot(process, signal.SIGINT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    async with sessions() as session:
        [character] = (await session.scalars(select(Character))).all()
        turns = await queries.last_turns(session, character.id, 10)
    assert [t.role for t in turns] == ["character", "user", "character", "user", "character"]
    assert [t.text for t in turns if t.role == "user"] == ["Do you remember me?", "I'm back."]


async def test_webhook_mode_stops_cleanly_and_updates_sent_while_down_are_answered_after(
    telegram: FakeTelegram, tiny_models: TinyModels, tmp_path: Path, database: Path, alice: FakeUser
) -> None:
    port = free_port()
    env = bot_env(
        telegram,
        tiny_models,
        database,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        TELEGRAM_WEBHOOK_SECRET="process-test-secret",
        TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        WARM_UP="false",
    )
    process = await start_bot(telegram, env, tmp_path)
    try:
        first = telegram.send_text(alice, None, "/start")
        await telegram.wait_for("sendMessage", lambda c: c.chat_id == first.chat_id, timeout=60)
        assert await stop_bot(process, signal.SIGTERM) == 0

        # Telegram keeps what it could not deliver while the bot was down, and retries.
        later = telegram.send_text(alice, None, "/help")
        await asyncio.sleep(0.5)
        assert telegram.pending_updates
        process = await start_bot(telegram, env, tmp_path)
        await telegram.wait_for("sendMessage", lambda c: c.chat_id == later.chat_id, timeout=60)
        assert await stop_bot(process, signal.SIGTERM) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not telegram.pending_updates


async def test_sigterm_while_the_models_load_ends_the_process_at_once(
    telegram: FakeTelegram, tiny_models: TinyModels, tmp_path: Path, database: Path
) -> None:
    """A first start downloads the dialogue model from a hub that trickles (a slow network):
    loading would take hours. SIGTERM ends the process cleanly, status 0, without waiting
    for it (issue 19, item 9)."""
    with FakeHub() as hub:
        hub.add("tiny/dialogue", tiny_models.dialogue)
        hub.slow("tiny/dialogue", "model.safetensors")
        env = bot_env(
            telegram,
            tiny_models,
            database,
            DIALOGUE_MODEL="tiny/dialogue",
            HF_ENDPOINT=hub.endpoint,
            HF_HOME=str(tmp_path / "hf"),
        )
        del env["HF_HUB_OFFLINE"], env["TRANSFORMERS_OFFLINE"]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path
        )
        try:
            assert await asyncio.to_thread(hub.trickling.wait, 120), "the download never began"
            process.send_signal(signal.SIGTERM)
            # The bound only keeps a failing test from hanging: the download never ends.
            assert await asyncio.wait_for(process.wait(), 60) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        downloads = [r for r in hub.requests if r.endswith("/model.safetensors")]
    assert downloads[-1].startswith("GET")  # it was downloading when told to stop
    assert not telegram.calls_to("deleteWebhook")  # it never began to take updates


async def test_the_webhook_secret_is_redacted_from_the_log_of_photo_talk_run(
    telegram: FakeTelegram, tiny_models: TinyModels, tmp_path: Path, database: Path
) -> None:
    """At LOG_LEVEL=DEBUG with LOG_MESSAGE_TEXT=true PTB logs every Bot API call with its
    parameters, setWebhook's secret_token among them: the CLI redacts it like the token."""
    port = free_port()
    secret = "process-log-secret-5c1a"
    env = bot_env(
        telegram,
        tiny_models,
        database,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        TELEGRAM_WEBHOOK_SECRET=secret,
        TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        WARM_UP="false",
        LOG_LEVEL="DEBUG",
        LOG_MESSAGE_TEXT="true",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    reading = asyncio.create_task(process.stderr.read())  # a full pipe would stall the bot
    try:
        await telegram.wait_for("setWebhook", timeout=120)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), STOP_WITHIN_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = (await reading).decode()
    assert "setWebhook" in log and "[REDACTED]" in log
    assert secret not in log


async def kept_messages(database: Path) -> set[int]:
    """The messages the bot keeps until it has answered them (read off its SQLite file)."""

    def read() -> set[int]:
        with sqlite3.connect(database) as db:
            return {row[0] for row in db.execute("SELECT telegram_message_id FROM arrivals")}

    return await asyncio.to_thread(read)


async def test_messages_taken_before_a_kill_are_answered_after_the_restart(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    tmp_path: Path,
    database: Path,
    alice: FakeUser,
    sessions: Any,
) -> None:
    """Killed (SIGKILL: no clean stop) while a reply was being sent and another message
    waited its turn: the restart sends the reply already written (not a new one, and not
    twice) and answers the message that waited."""
    env = bot_env(telegram, tiny_models, database, WARM_UP="false")
    process = await start_bot(telegram, env, tmp_path)
    try:
        photo = telegram.send_photo(alice, None, photo_bytes())
        statuses = tuple(TEXTS[key]["en"][:1] for key in ("status_looking", "status_thinking"))
        await telegram.wait_for(
            "sendMessage",
            lambda c: replies_to(photo)(c) and not c.params["text"].startswith(statuses),
            timeout=60,
        )  # the first line: the character is met
        sending = telegram.hold_next("sendMessage")  # Telegram never gets the next line
        first = telegram.send_text(alice, None, "Where was this taken?")
        await asyncio.wait_for(sending.received.wait(), 60)
        waiting = telegram.send_text(alice, None, "And who took it?")
        for _ in range(600):  # until the waiting message is kept
            if waiting.message_id in await kept_messages(database):
                break
            await asyncio.sleep(0.1)
        assert waiting.message_id in await kept_messages(database)
        process.kill()
        await process.wait()
        async with sessions() as session:
            written = (
                await session.scalars(
                    select(Message.text).where(
                        Message.role == "character", Message.telegram_message_id.is_(None)
                    )
                )
            ).one()  # the reply to `first`, written and stored, never sent

        process = await start_bot(telegram, env, tmp_path)
        to_first = await answer_to(telegram, first, 60)
        await answer_to(telegram, waiting, 60)
        assert to_first.params["text"] == written
        assert await stop_bot(process, signal.SIGTERM) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert await kept_messages(database) == set()
    async with sessions() as session:
        said = (
            await session.scalars(
                select(Message.text).where(Message.role == "user").order_by(Message.id)
            )
        ).all()
    assert said == ["Where was this taken?", "And who took it?"]  # each stored once
    assert len([c for c in telegram.calls_to("sendMessage") if c.params["text"] == written]) == 1
