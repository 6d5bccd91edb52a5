"""The one thread that runs model work: jobs wait by priority, are batched by kind, fair per chat.

Models live on one device and torch calls are not cheap to interleave, so a single worker
thread owns them. The asyncio side only awaits futures: the event loop never blocks on torch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from inference.errors import Busy, StageFailed, StageTimeout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """A kind of job: how urgent it is and how a batch of its payloads is run."""

    kind: str
    priority: int  # lower runs first
    run_batch: Callable[[list[Any]], list[Any]]
    max_batch: int = 1


@dataclass
class _Job:
    stage: Stage
    payload: Any
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    enqueued_at: float = field(default_factory=time.perf_counter)


class Worker:
    """Runs stages on one thread; replies overtake queued pictures, no chat starves the others."""

    def __init__(
        self,
        stages: list[Stage],
        *,
        queue_size: int,
        on_failure: Callable[[BaseException], None] | None = None,
        name: str = "photo-talk-worker",
    ) -> None:
        self._stages = sorted(stages, key=lambda s: s.priority)
        self._by_kind = {s.kind: s for s in stages}
        # kind -> chat -> jobs; chats rotate so one busy chat cannot starve the rest.
        self._queues: dict[str, OrderedDict[Hashable, deque[_Job]]] = {
            s.kind: OrderedDict() for s in stages
        }
        self._queue_size = queue_size
        self._pending = 0
        self._running = 0
        self._closed = False
        self._on_failure = on_failure
        self._cond = threading.Condition()
        self._latencies: dict[str, deque[float]] = {s.kind: deque(maxlen=2000) for s in stages}
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(
        self, kind: str, payload: Any, *, chat_key: Hashable = 0, limit_s: float | None = None
    ) -> Any:
        """Queue one job and wait for its result; `Busy` at once when the queue is full."""
        stage = self._by_kind[kind]
        loop = asyncio.get_running_loop()
        job = _Job(stage, payload, loop.create_future(), loop)
        with self._cond:
            if self._closed:
                raise StageFailed("the worker is shut down")
            if self._pending >= self._queue_size:
                raise Busy(f"{self._pending} jobs waiting")
            self._queues[kind].setdefault(chat_key, deque()).append(job)
            self._pending += 1
            self._cond.notify()
        try:
            return await asyncio.wait_for(job.future, limit_s)
        except TimeoutError as exc:
            raise StageTimeout(f"{kind} took longer than {limit_s} s") from exc

    @property
    def depth(self) -> int:
        """Jobs waiting plus jobs running."""
        with self._cond:
            return self._pending + self._running

    def latencies(self, kind: str) -> list[float]:
        """Recent queue-to-result seconds of one kind of job (for /stats and benchmarks)."""
        with self._cond:
            return list(self._latencies[kind])

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking work, cancel what waits, and let the running batch finish."""
        with self._cond:
            self._closed = True
            for chats in self._queues.values():
                for jobs in chats.values():
                    for job in jobs:
                        _call_soon(job, asyncio.Future.cancel)
                chats.clear()
            self._pending = 0
            self._cond.notify_all()
        self._thread.join(timeout)

    def _take_batch(self) -> list[_Job] | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                for stage in self._stages:
                    batch = self._round_robin(stage)
                    if batch:
                        self._running = len(batch)
                        return batch
                self._cond.wait()

    def _round_robin(self, stage: Stage) -> list[_Job]:
        """Take up to max_batch live jobs of one kind, one chat at a time in rotation."""
        chats = self._queues[stage.kind]
        batch: list[_Job] = []
        while chats and len(batch) < stage.max_batch:
            chat_key, jobs = next(iter(chats.items()))
            job = jobs.popleft()
            self._pending -= 1
            if jobs:
                chats.move_to_end(chat_key)
            else:
                del chats[chat_key]
            if not job.future.done():  # skip jobs whose caller gave up (timeout, cancel)
                batch.append(job)
        return batch

    def _run(self) -> None:
        while (batch := self._take_batch()) is not None:
            resolutions = self._run_batch(batch)
            # Idle before callers wake up, so what they read of `depth` is already true.
            with self._cond:
                self._running = 0
            for job, resolve in zip(batch, resolutions, strict=True):
                _call_soon(job, resolve)

    def _run_batch(self, batch: list[_Job]) -> list[Callable[[asyncio.Future[Any]], None]]:
        """Run one batch; how each job's future is to be resolved (result or error)."""
        stage = batch[0].stage
        try:
            results = stage.run_batch([job.payload for job in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{stage.kind}: {len(results)} results for {len(batch)}")
        except Exception as exc:
            log.exception("%s stage failed for a batch of %d", stage.kind, len(batch))
            if self._on_failure is not None:
                self._on_failure(exc)
            error = StageFailed(f"{stage.kind} failed: {type(exc).__name__}")
            return [functools.partial(_fail, error=error) for _ in batch]
        done = time.perf_counter()
        with self._cond:
            self._latencies[stage.kind].extend(done - job.enqueued_at for job in batch)
        return [functools.partial(_succeed, result=result) for result in results]


def _call_soon(job: _Job, action: Callable[[asyncio.Future[Any]], object]) -> None:
    """Resolve a job's future on its own loop; a loop that has closed meanwhile is ignored."""
    with contextlib.suppress(RuntimeError):
        job.loop.call_soon_threadsafe(action, job.future)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
