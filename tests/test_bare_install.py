"""An operator's install: `pip install .` with no extras, then `photo-talk run`.

CI (`.ci/run`) makes that install in a second virtual environment and names its Python in
PHOTO_TALK_BARE_PYTHON; this test starts the bot from there against the fake Bot API and
asks /start. A module that only the dev extras bring (aiohttp once) fails it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram, FakeUser
from tiny_checkpoints import TinyModels

from bot.texts import TEXTS

BARE_PYTHON = os.environ.get("PHOTO_TALK_BARE_PYTHON", "")
START_TIMEOUT_S = 180  # importing torch and loading the tiny models on a busy machine


async def until_polling(telegram: FakeTelegram, process: asyncio.subprocess.Process) -> None:
    """Until the bot polls (deleteWebhook comes just before); fails at once if it exits."""
    polling = asyncio.ensure_future(telegram.wait_for("deleteWebhook", timeout=START_TIMEOUT_S))
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
    if exited.done():
        polling.cancel()
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
        pytest.fail(f"photo-talk run exited with {process.returncode}:\n{log[-3000:]}")
    exited.cancel()
    await polling


@pytest.fixture
def photo_talk() -> Path:
    """The `photo-talk` command of the bare install."""
    if not BARE_PYTHON:
        reason = "PHOTO_TALK_BARE_PYTHON is not set (.ci/run makes the bare install)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    command = Path(BARE_PYTHON).parent / "photo-talk"
    assert command.exists(), f"{command}: the bare install has no photo-talk command"
    return command


async def test_photo_talk_run_from_a_bare_install_answers_start(
    photo_talk: Path, tiny_models: TinyModels, tmp_path: Path
) -> None:
    # Nothing of this checkout or of the test environment leaks in: the install stands alone.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    alice = FakeUser(1001, "Alice", "alice", language_code="en")
    async with FakeTelegram() as telegram:
        env |= {
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "TELEGRAM_FILE_BASE_URL": telegram.base_file_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            "CAPTION_MODEL": str(tiny_models.caption),
            "DIALOGUE_MODEL": str(tiny_models.dialogue),
            "IMAGE_MODEL": str(tiny_models.image),
            "SAFETY_MODEL": "",
            "TTS_MODEL": "",
            "ASR_MODEL": "",
            "INFERENCE_DEVICE": "cpu",
            "IMAGE_SIZE": "64",
            "HF_HUB_OFFLINE": "1",
            "METRICS_LISTEN": "127.0.0.1:0",  # the web server (aiohttp) starts too
        }
        process = await asyncio.create_subprocess_exec(
            str(photo_talk),
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await until_polling(telegram, process)
            telegram.send_text(alice, None, "/start")
            welcome = await telegram.wait_for(
                "sendMessage", lambda c: c.chat_id == alice.id, timeout=START_TIMEOUT_S
            )
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
    assert welcome.params["text"] == TEXTS["welcome"]["en"], log[-3000:]
    assert code == 0, log[-3000:]
    assert "photo-talk is ready as @" in log
