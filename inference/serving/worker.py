"""A thread that runs model work: jobs wait by priority (with aging), are batched by kind,
fair per chat, and a row that needs another try goes again without holding the others.

Each lane (`lanes.py`) is one worker: one thread owns its models, because torch calls are not
cheap to interleave and compiled CUDA graphs belong to the thread that recorded them. The
asyncio side only awaits futures: the event loop never blocks on torch.
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

from inference.errors import Busy, ShuttingDown, StageFailed, StageTimeout
from inference.types import Retry

log = logging.getLogger(__name__)

# Requests that reach an idle worker together (a burst of users, the benchmark's gather) wait
# this long for each other, so they run as one batch instead of [1, 7].
BATCH_WINDOW_S = 0.01
# A job gains one priority level per this many seconds of waiting: a steady stream of
# replies delays captions and pictures, never starves them.
AGING_S = 2.0


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
    started: asyncio.Future[None]  # resolved when the job first starts running
    loop: asyncio.AbstractEventLoop
    chat_key: Hashable
    enqueued_at: float = field(default_factory=time.perf_counter)
    retried: bool = False


class Worker:
    """Runs stages on one thread; replies overtake queued pictures, no chat starves the others,
    and waiting jobs age so no kind starves either."""

    def __init__(
        self,
        stages: list[Stage],
        *,
        queue_size: int,
        on_failure: Callable[[BaseException], None] | None = None,
        batch_window_s: float = BATCH_WINDOW_S,
        aging_s: float = AGING_S,
        on_stage_done: Callable[[str, float], None] | None = None,
        on_start: Callable[[], None] | None = None,
        name: str = "photo-talk-worker",
    ) -> None:
        self._stages = sorted(stages, key=lambda s: s.priority)
        self._by_kind = {s.kind: s for s in stages}
        # kind -> chat -> jobs; chats rotate so one busy chat cannot starve the rest.
        self._queues: dict[str, OrderedDict[Hashable, deque[_Job]]] = {
            s.kind: OrderedDict() for s in stages
        }
        self._queue_size = queue_size
        self._batch_window_s = batch_window_s
        self._aging_s = aging_s
        self._pending = 0
        self._running = 0
        self._idle = True
        self._closed = False
        self._on_failure = on_failure
        # Called on this thread with (kind, seconds from queueing to result) of every job done.
        self.on_stage_done = on_stage_done
        self._batch: list[_Job] = []  # the jobs running now (failed at close after the grace)
        self._batch_started: float | None = None  # when they began (perf_counter), or None
        self._cond = threading.Condition()
        self._latencies: dict[str, deque[float]] = {s.kind: deque(maxlen=2000) for s in stages}
        self.name = name
        self._on_start = on_start  # run first on the worker's own thread (e.g. its CUDA stream)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(
        self,
        kind: str,
        payload: Any,
        *,
        chat_key: Hashable = 0,
        limit_s: float | None = None,
        queue_limit_s: float | None = None,
    ) -> Any:
        """Queue one job and wait for its result; `Busy` at once when the queue is full.

        `limit_s` counts from when the job starts running (queue time is not run time);
        `queue_limit_s` bounds the wait before that (None: aging guarantees a turn)."""
        stage = self._by_kind[kind]
        loop = asyncio.get_running_loop()
        job = _Job(stage, payload, loop.create_future(), loop.create_future(), loop, chat_key)
        with self._cond:
            if self._closed:
                raise ShuttingDown("the worker is shut down")
            if self._pending >= self._queue_size:
                raise Busy(f"{self._pending} jobs waiting")
            self._queues[kind].setdefault(chat_key, deque()).append(job)
            self._pending += 1
            self._cond.notify()
        try:
            await asyncio.wait_for(asyncio.shield(job.started), queue_limit_s)
        except TimeoutError as exc:
            job.future.cancel()  # the worker skips it
            raise StageTimeout(f"{kind} waited longer than {queue_limit_s} s") from exc
        except BaseException:
            job.future.cancel()
            raise
        try:
            return await asyncio.wait_for(job.future, limit_s)
        except TimeoutError as exc:
            raise StageTimeout(f"{kind} ran longer than {limit_s} s") from exc

    @property
    def depth(self) -> int:
        """Jobs waiting plus jobs running."""
        with self._cond:
            return self._pending + self._running

    def latencies(self, kind: str) -> list[float]:
        """Recent queue-to-result seconds of one kind of job (for /stats and benchmarks)."""
        with self._cond:
            return list(self._latencies[kind])

    @property
    def busy_for(self) -> float:
        """Seconds the batch running now has run (0.0 when idle): past the stage timeout, its
        callers gave up, and the model (a stuck GPU) still holds the worker."""
        with self._cond:
            started = self._batch_started
        return 0.0 if started is None else time.perf_counter() - started

    def stages(self) -> list[str]:
        """The kinds of job this worker runs."""
        return [stage.kind for stage in self._stages]

    @property
    def alive(self) -> bool:
        """Taking work and its thread running (for the health check)."""
        return not self._closed and self._thread.is_alive()

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking work; what waits fails with `ShuttingDown` now (its callers can say so),
        the running batch gets `timeout` seconds to finish before it fails the same way."""
        stopped = ShuttingDown("the worker is shutting down")
        with self._cond:
            self._closed = True
            for chats in self._queues.values():
                for jobs in chats.values():
                    for job in jobs:
                        _call_soon(job, functools.partial(_shut_down, error=stopped))
                chats.clear()
            self._pending = 0
            self._cond.notify_all()
        self._thread.join(timeout)
        with self._cond:
            for job in self._batch:  # past the grace period: its callers stop waiting
                _call_soon(job, functools.partial(_shut_down, error=stopped))

    def _take_batch(self) -> list[_Job] | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                now = time.perf_counter()
                stage = self._most_urgent(now)
                if stage is None:
                    self._idle = True
                    self._cond.wait()
                    continue
                if self._idle and self._waiting(stage) < stage.max_batch:
                    # Woken from idle: let requests arriving together join one batch.
                    remaining = self._oldest(stage) + self._batch_window_s - now
                    if remaining > 0:
                        self._cond.wait(remaining)
                        continue
                batch = self._round_robin(stage)
                if batch:
                    self._idle = False
                    self._running = len(batch)
                    self._batch, self._batch_started = batch, now
                    return batch

    def _most_urgent(self, now: float) -> Stage | None:
        """The stage whose oldest job has the lowest priority after aging (ties: priority)."""
        best: Stage | None = None
        best_rank = 0.0
        for stage in self._stages:
            if not self._queues[stage.kind]:
                continue
            rank = stage.priority - (now - self._oldest(stage)) / self._aging_s
            if best is None or rank < best_rank:
                best, best_rank = stage, rank
        return best

    def _oldest(self, stage: Stage) -> float:
        return min(jobs[0].enqueued_at for jobs in self._queues[stage.kind].values())

    def _waiting(self, stage: Stage) -> int:
        return sum(len(jobs) for jobs in self._queues[stage.kind].values())

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
        if self._on_start is not None:
            self._on_start()
        while (batch := self._take_batch()) is not None:
            for job in batch:
                _call_soon(job, _started)
            resolutions = self._run_batch(batch)
            # Idle before callers wake up, so what they read of `depth` is already true.
            with self._cond:
                self._running = 0
                self._batch, self._batch_started = [], None
                for job, resolve in zip(batch, resolutions, strict=True):
                    if resolve is None:  # a retry: first in its chat, its chat first in line
                        chats = self._queues[job.stage.kind]
                        chats.setdefault(job.chat_key, deque()).appendleft(job)
                        chats.move_to_end(job.chat_key, last=False)
                        self._pending += 1
            for job, resolve in zip(batch, resolutions, strict=True):
                if resolve is not None:
                    _call_soon(job, resolve)

    def _results(self, stage: Stage, payloads: list[Any]) -> list[Any]:
        """`stage.run_batch(payloads)`; out of memory, each half again (down to single rows),
        so one big batch costs a retry, not every user's answer."""
        try:
            results = stage.run_batch(payloads)
        except Exception as exc:
            if self._on_failure is not None:
                self._on_failure(exc)  # frees what the failed batch held
            if not out_of_memory(exc) or len(payloads) == 1:
                raise
            half = len(payloads) // 2
            log.warning(
                "%s: out of memory at a batch of %d; trying halves", stage.kind, len(payloads)
            )
            return self._results(stage, payloads[:half]) + self._results(stage, payloads[half:])
        if len(results) != len(payloads):
            raise RuntimeError(f"{stage.kind}: {len(results)} results for {len(payloads)}")
        return list(results)

    def _run_batch(self, batch: list[_Job]) -> list[Callable[[_Job], None] | None]:
        """Run one batch; how each job's future is to be resolved (None: queued again)."""
        stage = batch[0].stage
        try:
            results = self._results(stage, [job.payload for job in batch])
        except Exception as exc:
            log.exception("%s stage failed for a batch of %d", stage.kind, len(batch))
            error = StageFailed(f"{stage.kind} failed: {type(exc).__name__}")
            return [functools.partial(_fail, error=error) for _ in batch]
        done = time.perf_counter()
        resolutions: list[Callable[[_Job], None] | None] = []
        with self._cond:
            for job, result in zip(batch, results, strict=True):
                if isinstance(result, Retry) and not job.retried:
                    job.payload, job.retried = result.payload, True
                    resolutions.append(None)
                elif isinstance(result, Retry):
                    error = StageFailed(f"{stage.kind} asked to retry a retry")
                    resolutions.append(functools.partial(_fail, error=error))
                elif isinstance(result, BaseException):  # this row failed, the others did not
                    resolutions.append(functools.partial(_fail, error=result))
                else:
                    self._latencies[stage.kind].append(done - job.enqueued_at)
                    resolutions.append(functools.partial(_succeed, result=result))
        observe = self.on_stage_done
        if observe is not None:
            for job, resolve in zip(batch, resolutions, strict=True):
                if resolve is not None:
                    observe(stage.kind, done - job.enqueued_at)
        return resolutions


def out_of_memory(error: BaseException) -> bool:
    """A device that ran out of memory (torch.OutOfMemoryError, or an allocator's message):
    a smaller batch may fit where this one did not."""
    return "OutOfMemory" in type(error).__name__ or "out of memory" in str(error).lower()


def _call_soon(job: _Job, action: Callable[[_Job], object]) -> None:
    """Act on a job's futures on its own loop; a loop that has closed meanwhile is ignored."""
    with contextlib.suppress(RuntimeError):
        job.loop.call_soon_threadsafe(action, job)


def _started(job: _Job) -> None:
    if not job.started.done():
        job.started.set_result(None)


def _shut_down(job: _Job, error: BaseException) -> None:
    """Closing: a waiting job's caller hears `error` at once, a running one's instead of a
    result that would come too late."""
    if not job.started.done():
        job.started.set_exception(error)
        job.future.cancel()
    elif not job.future.done():
        job.future.set_exception(error)


def _succeed(job: _Job, result: Any) -> None:
    if not job.future.done():
        job.future.set_result(result)


def _fail(job: _Job, error: BaseException) -> None:
    if not job.future.done():
        job.future.set_exception(error)


def run_each(calls: list[Callable[[], object]]) -> list[object]:
    """A stage that runs functions on the worker's own thread (compiled CUDA graphs belong to
    the thread that recorded them: the warm-up compiles there)."""
    return [call() for call in calls]
