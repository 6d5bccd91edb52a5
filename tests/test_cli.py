"""`photo-talk` as an operator runs it: database upgrade, and run without a token."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def photo_talk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "photo_talk.sqlite3"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    first = photo_talk("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    again = photo_talk("db", "upgrade", env=env)  # a second upgrade is a no-op
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(database) as connection:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert {"users", "characters", "messages", "active_characters", "alembic_version"} <= tables


def test_run_without_a_token_says_what_is_missing(tmp_path: Path) -> None:
    result = photo_talk(
        "run",
        env={"TELEGRAM_BOT_TOKEN": "", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"},
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_webhook_mode_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:ABC",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
    }
    result = photo_talk("run", env=env)
    assert result.returncode == 2
    assert "TELEGRAM_WEBHOOK_SECRET is required" in result.stderr
    odd = photo_talk("run", env={**env, "TELEGRAM_WEBHOOK_SECRET": "spaces are not allowed"})
    assert odd.returncode == 2
    assert "A-Z a-z 0-9 _ -" in odd.stderr
