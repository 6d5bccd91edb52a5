"""The real bot (PTB Application, SQLite file, tiny models) against the fake Bot API server."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_telegram import FakeTelegram, FakeUser
from PIL import Image
from tiny_checkpoints import TinyModels

from bot.app import build_application, running
from bot.settings import Settings
from inference.config import InferenceConfig
from inference.pipeline import Pipeline
from storage.engine import create_engine, create_session_factory


def tiny_inference_config(tiny_models: TinyModels, **overrides: Any) -> InferenceConfig:
    values: dict[str, Any] = {
        "caption_model": str(tiny_models.caption),
        "dialogue_model": str(tiny_models.dialogue),
        "image_model": str(tiny_models.image),
        "device": "cpu",
        "image_size": 64,
        "max_new_tokens": 24,
    }
    values.update(overrides)
    return InferenceConfig(**values)


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_models: TinyModels) -> Iterator[Pipeline]:
    """One pipeline on the tiny checkpoints, shared by every bot test (loading is the slow part)."""
    pipeline = Pipeline.load(tiny_inference_config(tiny_models))
    yield pipeline
    pipeline.close()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def bot_settings(
    telegram: FakeTelegram, database: Path, tiny_models: TinyModels, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": telegram.token,
        "telegram_api_base_url": telegram.base_url,
        "telegram_file_base_url": telegram.base_file_url,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "caption_model": str(tiny_models.caption),
        "dialogue_model": str(tiny_models.dialogue),
        "image_model": str(tiny_models.image),
        "inference_device": "cpu",
        "image_size": 64,
        "max_new_tokens": 24,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
def settings(telegram: FakeTelegram, database: Path, tiny_models: TinyModels) -> Settings:
    return bot_settings(telegram, database, tiny_models)


@pytest.fixture
async def bot(settings: Settings, tiny_pipeline: Pipeline) -> AsyncIterator[Any]:
    """The bot, polling the fake server, for the duration of one test."""
    application = build_application(settings, pipeline=tiny_pipeline)
    async with running(application, poll_timeout=1) as app:
        yield app


@pytest.fixture
def sessions(database: Path) -> Any:
    """A session factory on the bot's database file, to check what it stored."""
    return create_session_factory(create_engine(f"sqlite+aiosqlite:///{database}"))


@pytest.fixture
def alice() -> FakeUser:
    return FakeUser(1001, "Alice", "alice", language_code="en")


@pytest.fixture
def li() -> FakeUser:
    return FakeUser(1002, "李雷", "lilei", language_code="zh-hans")


def photo_bytes(
    color: tuple[int, int, int] = (180, 140, 120), size: tuple[int, int] = (96, 128)
) -> bytes:
    """A small JPEG: a face-coloured oval on a background, enough for the tiny models."""
    image = Image.new("RGB", size, (40, 60, 90))
    from PIL import ImageDraw

    ImageDraw.Draw(image).ellipse((20, 20, size[0] - 20, size[1] - 30), fill=color)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()
