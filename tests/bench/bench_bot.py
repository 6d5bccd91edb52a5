"""The bot's own overhead per text update: the real bot against the fake Bot API server, with an
instant stand-in pipeline, so only python-telegram-bot, the handlers, SQLite and HTTP remain.

    python tests/bench/bench_bot.py [--users 50] [--messages 10] [--json PATH]

Measures, from the moment an update is queued on the fake server to the moment the bot's
answer reaches it: median/p95 with one update at a time, `--idle-gap-ms` apart (idle), then
with `--users` users each writing `--messages` messages as fast as they get answers
(sustained updates/s). Both runs happen with
the product's AIORateLimiter (Telegram's ~30 requests/s) and without it (raw capacity).
Target: < 10 ms median when idle.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (fake_telegram)

from fake_telegram import FakeTelegram, FakeUser, SentCall
from PIL import Image

from bot.app import build_application, running
from bot.settings import Settings
from inference.text.card import Introduction
from inference.types import Language, Persona, TalkingPicture

TARGET_MEDIAN_MS = 10.0


class InstantActor:
    """Stands in for inference.Actor: every stage answers at once with canned text."""

    def __init__(self) -> None:
        buffer = io.BytesIO()
        Image.new("RGB", (96, 128), (180, 140, 120)).save(buffer, format="JPEG")
        self._jpeg = buffer.getvalue()
        self.queue_depth = 0

    async def decode(self, data: bytes) -> Image.Image:
        return Image.new("RGB", (96, 128))

    async def describe(self, image: Image.Image, **_: Any) -> str:
        return "a woman smiling in a park"

    async def create_persona(self, description: str, language: Language, **_: Any) -> Persona:
        return Persona("Anna", "warm, curious", "short and friendly", description, language)

    async def first_line(self, persona: Persona, **_: Any) -> str:
        return "Hello! Nice to meet you."

    async def introduce(self, description: str, language: Language, **_: Any) -> Introduction:
        persona = await self.create_persona(description, language)
        return Introduction(persona, await self.first_line(persona))

    async def reply(self, persona: Persona, history: Any, text: str, **_: Any) -> str:
        return "That is lovely to hear."

    async def talking_image(self, image: Any, persona: Persona, line: str, **_: Any) -> Any:
        return TalkingPicture(jpeg=self._jpeg)

    async def warm_up(self) -> float:
        return 0.0

    def latencies(self, kind: str) -> list[float]:
        return []

    def close(self) -> None:
        pass


class TimedTelegram(FakeTelegram):
    """The fake server, noting when each answer to a watched message arrives (O(1) per call,
    so the harness adds next to nothing to the event loop it shares with the bot)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[int, asyncio.Future[float]] = {}

    def expect_answer(self, chat_id: int, message_id: int) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self.answers[chat_id * 1_000_000_000 + message_id] = future
        return future

    def _record(self, call: SentCall) -> None:
        super()._record(call)
        if call.method == "sendMessage" and call.ok and call.message is not None:
            replied = call.message.reply_to_message_id
            key = call.message.chat_id * 1_000_000_000 + (replied or 0)
            future = self.answers.pop(key, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())


@dataclass
class Phase:
    name: str
    updates: int
    seconds: float
    latencies_ms: list[float]

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "updates": self.updates,
            "seconds": round(self.seconds, 3),
            # one at a time with pauses: a rate would only restate the latency
            "updates_per_s": None if self.name == "idle" else round(self.updates / self.seconds, 1),
            "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max_ms": round(ordered[-1], 2),
        }


async def _say(telegram: TimedTelegram, user: FakeUser, said: str) -> float:
    """One text update; milliseconds until the bot's answer to it was recorded."""
    started = time.perf_counter()
    message = telegram.send_text(user, None, said)
    answered = telegram.expect_answer(user.id, message.message_id)
    return (await asyncio.wait_for(answered, 30) - started) * 1000


async def _measure(
    database: Path,
    users: int,
    messages: int,
    idle_messages: int,
    idle_gap_s: float,
    rate_limited: bool,
) -> list[Phase]:
    async with TimedTelegram() as telegram:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            telegram_file_base_url=telegram.base_file_url,
            database_url=f"sqlite+aiosqlite:///{database}",
            max_photos_per_hour=0,
        )
        application = build_application(settings, actor=InstantActor())  # type: ignore[arg-type]
        if not rate_limited:
            application.bot._rate_limiter = None  # raw capacity, past Telegram's limits
        people = [FakeUser(5000 + i, f"User {i}", f"user{i}") for i in range(users)]
        photo = io.BytesIO()
        Image.new("RGB", (96, 128), (180, 140, 120)).save(photo, format="JPEG")
        async with running(application, poll_timeout=1):
            # 1. every user meets a character (not measured)
            for person in people:
                telegram.send_photo(person, None, photo.getvalue())
            await telegram._until(
                lambda: len(telegram.calls_to("sendPhoto")) >= users or None, 120, "pictures"
            )
            await telegram.wait_idle(quiet=0.3, timeout=60)
            for i in range(10):  # warm the handlers, the database and the connection pool
                await _say(telegram, people[i % users], f"warming up {i}")
            # 2. one update at a time, spaced so the rate limiter's bucket is never full
            idle = []
            for i in range(idle_messages):
                await asyncio.sleep(idle_gap_s)
                idle.append(await _say(telegram, people[i % users], f"Hello, message {i}"))
            busy_s = sum(idle) / 1000
            phases = [Phase("idle", idle_messages, busy_s, idle)]

            # 3. everyone at once, each writing again as soon as answered
            async def chat(person: FakeUser) -> list[float]:
                return [await _say(telegram, person, f"and {n}?") for n in range(messages)]

            started = time.perf_counter()
            loaded = await asyncio.gather(*(chat(person) for person in people))
            seconds = time.perf_counter() - started
            flat = [ms for per_user in loaded for ms in per_user]
            phases.append(Phase(f"{users} users", len(flat), seconds, flat))
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10, help="per user, in the load phase")
    parser.add_argument("--idle-messages", type=int, default=100)
    parser.add_argument("--idle-gap-ms", type=float, default=100.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    results: dict[str, Any] = {"target_median_ms": TARGET_MEDIAN_MS}
    print(f"{'limiter':<10} {'phase':<10} {'updates':>7} {'upd/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for rate_limited in (True, False):
        limiter = "on" if rate_limited else "off"
        with tempfile.TemporaryDirectory() as folder:
            phases = asyncio.run(
                _measure(
                    Path(folder) / "bench.sqlite3",
                    args.users,
                    args.messages,
                    args.idle_messages,
                    args.idle_gap_ms / 1000,
                    rate_limited,
                )
            )
        for phase in phases:
            row = phase.summary()
            results[f"rate_limiter_{limiter}/{phase.name}"] = row
            rate = "-" if row["updates_per_s"] is None else row["updates_per_s"]
            print(
                f"{limiter:<10} {phase.name:<10} {row['updates']:>7} {rate:>7} "
                f"{row['median_ms']:>7} {row['p95_ms']:>7}"
            )
    idle_median = results["rate_limiter_on/idle"]["median_ms"]
    verdict = "meets" if idle_median < TARGET_MEDIAN_MS else "misses"
    print(f"idle median {idle_median} ms {verdict} the < {TARGET_MEDIAN_MS:.0f} ms target")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
