"""The real bot (PTB Application, SQLite file, tiny models) against the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings, tiny_inference_config
from fake_telegram import FakeTelegram, FakeUser
from tiny_checkpoints import TinyModels

from bot.app import build_application, running
from bot.settings import Settings
from inference.actor import Actor
from storage.engine import create_engine, create_session_factory


@pytest.fixture(scope="session")
def tiny_actor(tiny_models: TinyModels) -> Iterator[Actor]:
    """One actor on the tiny checkpoints, shared by every bot test (loading is the slow part)."""
    actor = Actor.load(tiny_inference_config(tiny_models))
    yield actor
    actor.close()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
def settings(telegram: FakeTelegram, database: Path, tiny_models: TinyModels) -> Settings:
    return bot_settings(telegram, database, tiny_models)


@pytest.fixture
async def bot(settings: Settings, tiny_actor: Actor) -> AsyncIterator[Any]:
    """The bot, polling the fake server, for the duration of one test."""
    application = build_application(settings, actor=tiny_actor)
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
