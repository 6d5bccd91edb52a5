"""Two lanes: a reply is never queued behind a voice or a video."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from inference.serving.lanes import Lanes
from inference.serving.worker import Stage


def held(gate: threading.Event, started: threading.Event) -> Any:
    """A media stage that runs until `gate` opens (a long voice)."""

    def speak(payloads: list[str]) -> list[str]:
        started.set()
        gate.wait(10)
        return [f"voice:{p}" for p in payloads]

    return speak


async def test_text_is_answered_while_the_media_lane_is_busy() -> None:
    gate, started = threading.Event(), threading.Event()
    lanes = Lanes(
        [Stage("text", 0, lambda ps: [f"line:{p}" for p in ps], 8)],
        [Stage("speech", 0, held(gate, started), 8)],
        queue_size=8,
        batch_window_s=0.0,
    )
    limits: dict[str, Any] = {"limit_s": 30, "queue_limit_s": 30}
    try:
        voice = asyncio.create_task(lanes.submit("speech", "a", chat_key="A", **limits))
        await asyncio.to_thread(started.wait, 10)
        # The voice runs now; another chat's reply does not wait for it.
        assert await lanes.submit("text", "b", chat_key="B", **limits) == "line:b"
        assert not voice.done() and lanes.media.busy_for > 0 and lanes.depth == 1
        gate.set()
        assert await voice == "voice:a"
    finally:
        gate.set()
        lanes.close(1.0)


async def test_cpu_work_is_timed_like_a_stage() -> None:
    lanes = Lanes([], [], queue_size=1, batch_window_s=0.0)
    seen: list[tuple[str, float]] = []
    lanes.observe(lambda kind, seconds: seen.append((kind, seconds)))
    try:
        assert await lanes.timed_on_cpu("video", lambda: threading.current_thread().name) != (
            threading.current_thread().name
        )
    finally:
        lanes.close(1.0)
    assert [kind for kind, _ in seen] == ["video"] and len(lanes.latencies("video")) == 1
