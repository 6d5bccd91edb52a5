"""How fast is `last_turns(limit=20)` as history grows? (a script, not a pytest test)

    python tests/bench/bench_storage.py [--messages 1000000] [--queries 2000] [--postgres]

Fills two migrated databases (10k messages and --messages), spread round-robin over many
characters so each conversation is scattered through the table, then times `last_turns`
and prints the query plan the database uses for the exact SQL it emitted. SQLite files by
default; `--postgres` also runs on a throwaway PostgreSQL cluster (tests/postgres_cluster.py,
Debian's `postgresql` binaries), `--postgres-url URL` on a server of yours instead.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
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
TESTS_DIR = str(Path(__file__).resolve().parents[1])  # for tests/postgres_cluster.py


@dataclass(frozen=True)
class Result:
    backend: str
    messages: int
    characters: int
    fill_s: float
    p50_ms: float
    p95_ms: float
    raw_p50_ms: float | None
    raw_p95_ms: float | None
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


async def measure(url: str, messages: int, queries_count: int) -> Result:
    """Fill the empty database at `url` and time `last_turns` on it."""
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
    backend = engine.dialect.name
    explain = "EXPLAIN QUERY PLAN" if backend == "sqlite" else "EXPLAIN"
    async with engine.connect() as connection:
        plan_rows = await connection.exec_driver_sql(f"{explain} {statement}", params)
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
    if backend == "sqlite":
        with closing(sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"))) as plain:
            for _ in range(queries_count):
                character_id = rng.randint(1, characters)
                began = time.perf_counter()
                plain.execute(statement, (character_id, *params[1:])).fetchall()
                raw.append((time.perf_counter() - began) * 1000)

    cuts = statistics.quantiles(latencies, n=100)
    raw_cuts = statistics.quantiles(raw, n=100) if raw else None
    return Result(
        backend,
        messages,
        characters,
        fill_s,
        statistics.median(latencies),
        cuts[94],
        statistics.median(raw) if raw else None,
        raw_cuts[94] if raw_cuts else None,
        plan,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway cluster")
    parser.add_argument("--postgres-url", help="also on this (empty) PostgreSQL database")
    args = parser.parse_args()
    sizes = sorted({SMALL, args.messages})

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench_storage_") as folder:
        for size in sizes:
            path = Path(folder) / f"bench_{size}.sqlite3"
            results.append(await measure(f"sqlite+aiosqlite:///{path}", size, args.queries))
            print(f"sqlite: filled {size:,} messages in {results[-1].fill_s:.1f}s", flush=True)
    if args.postgres_url:
        results.append(await measure(args.postgres_url, args.messages, args.queries))
    elif args.postgres:
        sys.path.insert(0, TESTS_DIR)
        from postgres_cluster import PostgresCluster, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise SystemExit("--postgres: no PostgreSQL server binaries (apt install postgresql)")
        cluster = PostgresCluster(bin_dir).start()
        try:
            for size in sizes:
                results.append(await measure(cluster.create_database(), size, args.queries))
                print(f"postgresql: filled {size:,} in {results[-1].fill_s:.1f}s", flush=True)
        finally:
            cluster.stop()

    print(f"\nlast_turns(limit=20), {args.queries} calls each, one session per call")
    print("(raw: the emitted SQL alone on a stdlib sqlite3 connection; SQLite only)")
    print(
        f"{'backend':>10} {'messages':>10} {'characters':>10} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'raw p50':>8} {'raw p95':>8}"
    )
    for r in results:
        raw = (
            f" {r.raw_p50_ms:>8.3f} {r.raw_p95_ms:>8.3f}"
            if r.raw_p50_ms is not None and r.raw_p95_ms is not None
            else f" {'-':>8} {'-':>8}"
        )
        print(
            f"{r.backend:>10} {r.messages:>10,} {r.characters:>10,}"
            f" {r.p50_ms:>8.3f} {r.p95_ms:>8.3f}{raw}"
        )
    for r in results:
        if r.messages == max(sizes):
            print(f"\nquery plan, {r.backend}, {r.messages:,} messages:\n{r.plan}")


if __name__ == "__main__":
    asyncio.run(main())
