"""Engine and session factory, built once at start-up from a URL the caller passes in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# WAL lets readers run while the bot writes; busy_timeout makes concurrent writers wait
# instead of failing at once; NORMAL sync is durable enough with WAL and much faster.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
    # Deleted rows are overwritten, so /forget leaves no text in the file's free pages.
    "PRAGMA secure_delete=ON",
)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`; for SQLite files, makes the folder and sets the pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    engine = create_async_engine(url)

    # Pragmas are per connection (foreign_keys is off by default in SQLite), so set them
    # every time the pool opens one.
    @event.listens_for(engine.sync_engine, "connect")
    def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose loaded values stay readable after commit (records are built from them)."""
    return async_sessionmaker(engine, expire_on_commit=False)
