"""The real bot (PTB Application, SQLite file, tiny models) against the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings, tiny_inference_config
from fake_telegram import FakeTelegram, FakeUser
from postgres_cluster import PostgresCluster
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
def backend(request: pytest.FixtureRequest) -> str:
    """The database the bot runs on: SQLite unless a module parametrizes it, as in
    `pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)`."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, database: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The bot's database: the SQLite file `database`, or a fresh migrated PostgreSQL one."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{database}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.migrated_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
def settings(telegram: FakeTelegram, database_url: str, tiny_models: TinyModels) -> Settings:
    return bot_settings(telegram, database_url, tiny_models)


@pytest.fixture
async def bot(settings: Settings, tiny_actor: Actor) -> AsyncIterator[Any]:
    """The bot, polling the fake server, for the duration of one test."""
    application = build_application(settings, actor=tiny_actor)
    async with running(application, poll_timeout=1) as app:
        yield app


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Any]:
    """A session factory on the bot's database, to check what it stored."""
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def alice() -> FakeUser:
    return FakeUser(1001, "Alice", "alice", language_code="en")


@pytest.fixture
def li() -> FakeUser:
    return FakeUser(1002, "李雷", "lilei", language_code="zh-hans")
