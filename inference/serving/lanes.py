"""Two lanes share the GPU, so text never waits for media.

The text lane (transcription, caption, dialogue) and the media lane (speech, mouth painting,
lip sync) are each a worker with its own thread, queue and batching: a long voice or video
runs beside a reply instead of before it. On CUDA the media lane issues its kernels on a
stream of its own (`device.own_stream`), so they run beside the text lane's. CPU-only
work (decoding photos, finding faces, compositing frames, H.264 encoding) runs in a thread
pool off both lanes and off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from inference.serving.worker import Stage, Worker

P = ParamSpec("P")
T = TypeVar("T")

# Compositing and encoding release the GIL (Pillow, libx264): a few threads keep cores busy.
CPU_THREADS = max(2, min(4, os.cpu_count() or 2))


class Lanes:
    """The text lane, the media lane and the CPU pool; jobs go to the lane of their kind."""

    def __init__(
        self,
        text: list[Stage],
        media: list[Stage],
        *,
        queue_size: int,
        batch_window_s: float,
        on_failure: Callable[[BaseException], None] | None = None,
        media_on_start: Callable[[], None] | None = None,
        cpu_threads: int = CPU_THREADS,
    ) -> None:
        common: dict[str, Any] = {
            "queue_size": queue_size,
            "on_failure": on_failure,
            "batch_window_s": batch_window_s,
        }
        self.text = Worker(text, name="photo-talk-text", **common)
        self.media = Worker(media, name="photo-talk-media", on_start=media_on_start, **common)
        self._lane_of = {kind: lane for lane in (self.text, self.media) for kind in lane.stages()}
        self._cpu = ThreadPoolExecutor(cpu_threads, thread_name_prefix="photo-talk-cpu")
        self._cpu_latencies: dict[str, deque[float]] = {}
        self._observe: Callable[[str, float], None] | None = None

    async def submit(
        self,
        kind: str,
        payload: Any,
        *,
        chat_key: Hashable,
        limit_s: float | None,
        queue_limit_s: float | None,
    ) -> Any:
        """Run one job on its lane (see `Worker.submit`)."""
        return await self._lane_of[kind].submit(
            kind, payload, chat_key=chat_key, limit_s=limit_s, queue_limit_s=queue_limit_s
        )

    async def on_cpu(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args)` in the CPU pool: neither lane nor the event loop waits for it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cpu, functools.partial(function, *args, **kwargs))

    async def timed_on_cpu(self, kind: str, function: Callable[[], T]) -> T:
        """`on_cpu`, its seconds counted as a `kind` job (latencies, observers)."""
        started = time.perf_counter()
        result = await self.on_cpu(function)
        seconds = time.perf_counter() - started
        self._cpu_latencies.setdefault(kind, deque(maxlen=2000)).append(seconds)
        if self._observe is not None:
            self._observe(kind, seconds)
        return result

    @property
    def depth(self) -> int:
        """Jobs waiting plus running, both lanes."""
        return self.text.depth + self.media.depth

    @property
    def alive(self) -> bool:
        return self.text.alive and self.media.alive

    @property
    def busy_for(self) -> float:
        """Seconds the longest-running batch of either lane has run."""
        return max(self.text.busy_for, self.media.busy_for)

    def latencies(self, kind: str) -> list[float]:
        """Recent seconds of one kind of job, from queueing to result."""
        if kind in self._lane_of:
            return self._lane_of[kind].latencies(kind)
        return list(self._cpu_latencies.get(kind, ()))

    def observe(self, callback: Callable[[str, float], None] | None) -> None:
        """Have `callback(kind, seconds)` called after every job."""
        self.text.on_stage_done = callback
        self.media.on_stage_done = callback
        self._observe = callback

    def close(self, grace_s: float) -> None:
        """Stop both lanes (queued jobs fail at once, running ones get `grace_s` together),
        then the CPU pool (what runs there finishes; nothing new starts)."""
        stoppers = [
            threading.Thread(target=lane.close, args=(grace_s,), name=f"stop-{lane.name}")
            for lane in (self.text, self.media)
        ]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self._cpu.shutdown(wait=False, cancel_futures=True)
