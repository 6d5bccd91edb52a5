"""A real, migrated database per test (a SQLite file, a PostgreSQL server) and sessions on it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from postgres_cluster import PostgresCluster
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_database


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated from empty; tests get copies (running Alembic per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_database(sqlite_url(path))
    # The engine closed every connection, so the WAL is checkpointed into the main file.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def sqlite_database_url(tmp_path: Path, migrated_template: Path) -> str:
    """URL of a fresh SQLite file holding the schema built by the migrations."""
    path = tmp_path / "data" / "photo_talk.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(migrated_template, path)
    return sqlite_url(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated database on each backend the bot supports."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_database_url")
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.migrated_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
async def session_factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on `database_url`, engine disposed after the test."""
    engine = create_engine(database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()
