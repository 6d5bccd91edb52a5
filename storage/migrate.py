"""Bring a database to the newest schema by running Alembic programmatically (no ini file).

`upgrade_database` is synchronous: Alembic's env.py drives its async engine with its own
`asyncio.run`. Called from a thread that already runs an event loop, it does that work in a
helper thread (blocking the loop until done, which is fine at start-up); async callers that
must not block should `await upgrade_database_async(url)` instead.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: ConfigParser would choke on '%' in URLs.
    config.attributes["url"] = url
    return config


def _upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def upgrade_database(url: str) -> None:
    """Run every pending migration on `url` (any SQLAlchemy async URL)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alembic") as pool:
        pool.submit(_upgrade, url).result()


async def upgrade_database_async(url: str) -> None:
    """`upgrade_database` without blocking the running event loop."""
    await asyncio.to_thread(_upgrade, url)
