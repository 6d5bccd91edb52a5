"""Alembic environment: runs migrations through an async engine, batch mode on SQLite.

The URL comes from `config.attributes["url"]` (set by `storage.migrate`), else from
`-x url=...` on the alembic command line, else from `sqlalchemy.url` in the ini file.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from storage import models  # noqa: F401  (registers every table on Base.metadata)
from storage.base import Base, UTCDateTime
from storage.engine import create_engine

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: use storage.migrate or `alembic -x url=...`")
    return str(url)


def _render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import app code: write UTCDateTime as the column type it stores as.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: object) -> None:
    url = _database_url()
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        render_item=_render_item,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade head --sql`)."""
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_sync_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    """Connect with the app's own engine (same pragmas) and migrate inside run_sync."""
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                # Batch mode rebuilds a table by DROP + RENAME; with foreign keys on, the DROP
                # would run the ON DELETE actions and empty every table that refers to it.
                # (A PRAGMA is not DML: the driver opens no transaction for it.)
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.run_sync(_run_sync_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
