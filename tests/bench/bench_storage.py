"""How fast is `last_turns(limit=20)` as history grows? (a script, not a pytest test)

    python tests/bench/bench_storage.py [--messages 1000000] [--queries 2000]

Fills two migrated SQLite files (10k messages and --messages), spread round-robin over many
characters so each conversation is scattered through the table, then times `last_turns`
and prints the query plan SQLite uses for the exact SQL it emitted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_database_async
from storage.models import Character, Message, User

MESSAGES_PER_CHARACTER = 200
USERS = 1_000
BATCH = 50_000
SMALL = 10_000


@dataclass(frozen=True)
class Result:
    messages: int
    characters: int
    fill_s: float
    p50_ms: float
    p95_ms: float
    raw_p50_ms: float
    raw_p95_ms: float
    plan: str


async def fill(engine: AsyncEngine, messages: int, characters: int) -> None:
    """Bulk insert users, characters and messages with executemany (Core insert)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(User),
            [
                {"id": u, "display_name": f"user {u}", "language": "en", "created_at": start}
                for u in range(1, USERS + 1)
            ],
        )
        await connection.execute(
            insert(Character),
            [
                {
                    "id": c,
                    "chat_id": -c,
                    "owner_id": c % USERS + 1,
                    "photo_file_id": f"file-{c}",
                    "description": "a person in a photo",
                    "persona_name": f"persona {c}",
                    "persona_traits": "kind",
                    "persona_style": "short",
                    "language": "en",
                    "created_at": start,
                }
                for c in range(1, characters + 1)
            ],
        )
    for first in range(0, messages, BATCH):
        rows: list[dict[str, Any]] = []
        for i in range(first, min(first + BATCH, messages)):
            character = i % characters + 1  # round-robin: conversations interleave
            is_user = i % 2 == 0
            rows.append(
                {
                    "character_id": character,
                    "chat_id": -character,
                    "author_id": character % USERS + 1 if is_user else None,
                    "author_name": "someone" if is_user else f"persona {character}",
                    "role": "user" if is_user else "character",
                    "text": f"message number {i} with a little body of text to be realistic",
                    "telegram_message_id": i + 1,
                    "created_at": start + timedelta(seconds=i),
                }
            )
        async with engine.begin() as connection:
            await connection.execute(insert(Message), rows)


async def measure(path: Path, messages: int, queries_count: int) -> Result:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_database_async(url)
    engine = create_engine(url)
    characters = max(1, messages // MESSAGES_PER_CHARACTER)

    began = time.perf_counter()
    await fill(engine, messages, characters)
    fill_s = time.perf_counter() - began
    async with engine.connect() as connection:
        await connection.execute(text("ANALYZE"))

    factory = create_session_factory(engine)
    emitted: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        emitted.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with factory() as session:
        turns = await queries.last_turns(session, 1, 20)
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert len(turns) == min(20, MESSAGES_PER_CHARACTER), len(turns)
    statement, params = emitted[-1]
    async with engine.connect() as connection:
        plan_rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        plan = "\n".join(f"  {row[-1]}" for row in plan_rows)
    plan = f"  SQL: {' '.join(statement.split())}\n{plan}"

    rng = random.Random(0)
    latencies: list[float] = []
    for attempt in range(queries_count + 50):
        character_id = rng.randint(1, characters)
        began = time.perf_counter()
        async with factory() as session:
            await queries.last_turns(session, character_id, 20)
        if attempt >= 50:  # the first ones warm the pool and the page cache
            latencies.append((time.perf_counter() - began) * 1000)
    await engine.dispose()

    # The same SQL on a plain sqlite3 connection: what SQLite itself costs, without the
    # session, the aiosqlite thread hop and building records.
    raw: list[float] = []
    with closing(sqlite3.connect(path)) as plain:
        for _ in range(queries_count):
            character_id = rng.randint(1, characters)
            began = time.perf_counter()
            plain.execute(statement, (character_id, *params[1:])).fetchall()
            raw.append((time.perf_counter() - began) * 1000)

    cuts = statistics.quantiles(latencies, n=100)
    raw_cuts = statistics.quantiles(raw, n=100)
    return Result(
        messages,
        characters,
        fill_s,
        statistics.median(latencies),
        cuts[94],
        statistics.median(raw),
        raw_cuts[94],
        plan,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    args = parser.parse_args()

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench_storage_") as folder:
        for size in sorted({SMALL, args.messages}):
            path = Path(folder) / f"bench_{size}.sqlite3"
            results.append(await measure(path, size, args.queries))
            print(
                f"filled {size:,} messages in {results[-1].fill_s:.1f}s "
                f"({path.stat().st_size / 2**20:.0f} MiB)",
                flush=True,
            )

    print(f"\nlast_turns(limit=20), {args.queries} calls each, one session per call")
    print("(sqlite: the emitted SQL alone on a stdlib sqlite3 connection)")
    print(
        f"{'messages':>10} {'characters':>10} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'sqlite p50':>11} {'sqlite p95':>11}"
    )
    for r in results:
        print(
            f"{r.messages:>10,} {r.characters:>10,} {r.p50_ms:>8.3f} {r.p95_ms:>8.3f}"
            f" {r.raw_p50_ms:>11.3f} {r.raw_p95_ms:>11.3f}"
        )
    print(f"\nEXPLAIN QUERY PLAN at {results[-1].messages:,} messages:\n{results[-1].plan}")


if __name__ == "__main__":
    asyncio.run(main())
