"""The worker thread: priorities, batching, per-chat fairness, limits and recovery."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from inference.errors import Busy, ShuttingDown, StageFailed, StageTimeout
from inference.serving.worker import Stage, Worker
from inference.types import Retry


class Recorder:
    """A stage body that records every batch it runs and can be held at a gate."""

    def __init__(
        self, kind: str, log: list[tuple[str, list[Any]]], gate: threading.Event | None = None
    ):
        self.kind, self.log, self.gate = kind, log, gate

    def __call__(self, payloads: list[Any]) -> list[Any]:
        if self.gate is not None:
            self.gate.wait(5)
        self.log.append((self.kind, list(payloads)))
        return [f"{self.kind}:{p}" for p in payloads]


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


@pytest.fixture
def log() -> list[tuple[str, list[Any]]]:
    return []


async def test_reply_overtakes_queued_pictures(log: list[tuple[str, list[Any]]]) -> None:
    gate = threading.Event()
    worker = Worker(
        [
            Stage("text", 0, Recorder("text", log), 8),
            Stage("image", 2, Recorder("image", log, gate), 1),
        ],
        queue_size=16,
    )
    try:
        images = [asyncio.create_task(worker.submit("image", i)) for i in range(4)]
        await wait_until(lambda: worker.depth == 4)
        reply = asyncio.create_task(worker.submit("text", "hi"))
        await wait_until(lambda: worker.depth == 5)
        gate.set()
        assert await reply == "text:hi"
        assert await asyncio.gather(*images) == [f"image:{i}" for i in range(4)]
    finally:
        worker.close()
    # The first picture was already running; the reply came right after it.
    assert [kind for kind, _ in log] == ["image", "text", "image", "image", "image"]


async def test_waiting_jobs_of_one_kind_run_as_one_batch(log: list[tuple[str, list[Any]]]) -> None:
    gate = threading.Event()
    worker = Worker(
        [
            Stage("text", 0, Recorder("text", log), 4),
            Stage("image", 2, Recorder("image", log, gate), 1),
        ],
        queue_size=16,
    )
    try:
        blocker = asyncio.create_task(worker.submit("image", "x"))
        await wait_until(lambda: worker.depth == 1)
        replies = [asyncio.create_task(worker.submit("text", i, chat_key=i)) for i in range(6)]
        await wait_until(lambda: worker.depth == 7)
        gate.set()
        assert await asyncio.gather(*replies) == [f"text:{i}" for i in range(6)]
        await blocker
    finally:
        worker.close()
    assert log[1:] == [("text", [0, 1, 2, 3]), ("text", [4, 5])]


async def test_a_busy_chat_does_not_starve_another(log: list[tuple[str, list[Any]]]) -> None:
    gate = threading.Event()
    worker = Worker(
        [
            Stage("text", 0, Recorder("text", log), 1),
            Stage("image", 2, Recorder("image", log, gate), 1),
        ],
        queue_size=32,
    )
    try:
        blocker = asyncio.create_task(worker.submit("image", "x"))
        await wait_until(lambda: worker.depth == 1)
        busy = [
            asyncio.create_task(worker.submit("text", f"a{i}", chat_key="A")) for i in range(10)
        ]
        await wait_until(lambda: worker.depth == 11)
        quiet = asyncio.create_task(worker.submit("text", "b0", chat_key="B"))
        await wait_until(lambda: worker.depth == 12)
        gate.set()
        await asyncio.gather(blocker, quiet, *busy)
    finally:
        worker.close()
    order = [payloads[0] for kind, payloads in log if kind == "text"]
    assert order.index("b0") <= 1, order


async def test_a_full_queue_refuses_at_once() -> None:
    gate = threading.Event()
    worker = Worker([Stage("image", 0, Recorder("image", [], gate), 1)], queue_size=2)
    try:
        running = asyncio.create_task(worker.submit("image", 0))
        await wait_until(lambda: worker.depth == 1)
        queued = [asyncio.create_task(worker.submit("image", i)) for i in (1, 2)]
        await wait_until(lambda: worker.depth == 3)
        with pytest.raises(Busy):
            await worker.submit("image", 3)
        gate.set()
        await asyncio.gather(running, *queued)
    finally:
        worker.close()


async def test_a_failing_stage_is_reported_and_the_worker_keeps_serving() -> None:
    failures: list[BaseException] = []

    def flaky(payloads: list[Any]) -> list[Any]:
        if "boom" in payloads:
            raise RuntimeError("CUDA out of memory")
        return payloads

    worker = Worker([Stage("text", 0, flaky, 1)], queue_size=4, on_failure=failures.append)
    try:
        with pytest.raises(StageFailed):
            await worker.submit("text", "boom")
        assert await worker.submit("text", "fine") == "fine"
    finally:
        worker.close()
    assert [str(f) for f in failures] == ["CUDA out of memory"]


async def test_a_stuck_stage_times_out_and_its_queued_job_is_skipped(
    log: list[tuple[str, list[Any]]],
) -> None:
    gate = threading.Event()
    worker = Worker([Stage("image", 0, Recorder("image", log, gate), 1)], queue_size=4)
    try:
        with pytest.raises(StageTimeout):
            await worker.submit("image", "stuck", limit_s=0.2)
        with pytest.raises(StageTimeout):
            await worker.submit("image", "given-up", limit_s=5, queue_limit_s=0.05)
        gate.set()
        assert await worker.submit("image", "after") == "image:after"
    finally:
        worker.close()
    assert [payloads for _, payloads in log] == [["stuck"], ["after"]]


async def test_the_event_loop_keeps_ticking_while_a_job_blocks_its_thread() -> None:
    def slow(payloads: list[Any]) -> list[Any]:
        time.sleep(0.5)  # a torch call holding its thread
        return payloads

    worker = Worker([Stage("text", 0, slow, 1)], queue_size=4)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await worker.submit("text", "x")
    finally:
        task.cancel()
        worker.close()
    # A blocked loop would tick about once; a free one about fifty times in half a second.
    assert ticks >= 10


async def test_close_fails_waiting_jobs_so_their_callers_can_say_so() -> None:
    gate = threading.Event()
    worker = Worker([Stage("image", 0, Recorder("image", [], gate), 1)], queue_size=4)
    running = asyncio.create_task(worker.submit("image", 0))
    await wait_until(lambda: worker.depth == 1)
    waiting = asyncio.create_task(worker.submit("image", 1))
    await wait_until(lambda: worker.depth == 2)
    closing = asyncio.create_task(asyncio.to_thread(worker.close))
    with pytest.raises(ShuttingDown):  # at once, while the running job still runs
        await waiting
    assert not worker.alive
    gate.set()
    await closing
    assert await running == "image:0"  # the running job finished within the grace period
    with pytest.raises(ShuttingDown):  # and what comes later is told the same
        await worker.submit("image", 2)


async def test_a_job_running_past_the_grace_period_fails_instead_of_hanging() -> None:
    gate = threading.Event()
    worker = Worker([Stage("image", 0, Recorder("image", [], gate), 1)], queue_size=4)
    running = asyncio.create_task(worker.submit("image", 0))
    await wait_until(lambda: worker.depth == 1)
    await asyncio.to_thread(worker.close, 0.1)
    with pytest.raises(ShuttingDown):
        await running
    gate.set()


async def test_every_finished_job_is_reported_with_its_stage_and_seconds() -> None:
    seen: list[tuple[str, float, str]] = []
    worker = Worker(
        [Stage("text", 0, Recorder("text", []), 8), Stage("image", 1, Recorder("image", []), 1)],
        queue_size=8,
        on_stage_done=lambda kind, s: seen.append((kind, s, threading.current_thread().name)),
    )
    try:
        assert worker.alive
        await asyncio.gather(worker.submit("text", 1), worker.submit("image", 2))
    finally:
        worker.close()
    assert sorted(kind for kind, _, _ in seen) == ["image", "text"]
    assert all(seconds > 0 and thread == "photo-talk-worker" for _, seconds, thread in seen)


async def test_queue_time_does_not_count_against_the_run_limit(
    log: list[tuple[str, list[Any]]],
) -> None:
    gate = threading.Event()
    worker = Worker(
        [
            Stage("text", 0, Recorder("text", log), 1),
            Stage("image", 2, Recorder("image", log, gate), 1),
        ],
        queue_size=8,
    )
    try:
        picture = asyncio.create_task(worker.submit("image", "slow"))
        await wait_until(lambda: worker.depth == 1)
        reply = asyncio.create_task(worker.submit("text", "hi", limit_s=0.2))
        await asyncio.sleep(0.5)  # the reply waits far longer than its run limit
        gate.set()
        assert await reply == "text:hi"
        await picture
    finally:
        worker.close()


async def test_requests_arriving_at_an_idle_worker_share_one_batch(
    log: list[tuple[str, list[Any]]],
) -> None:
    """The benchmark's pattern: 8 users a few ms apart while nothing runs -> [8], not [1, 7]."""
    worker = Worker([Stage("text", 0, Recorder("text", log), 8)], queue_size=16, batch_window_s=0.3)
    try:
        replies = []
        for i in range(8):
            replies.append(asyncio.create_task(worker.submit("text", i, chat_key=i)))
            await asyncio.sleep(0.002)
        assert await asyncio.gather(*replies) == [f"text:{i}" for i in range(8)]
        # Once busy, the worker takes what waits without a window (nothing to wait for).
        assert await worker.submit("text", "alone") == "text:alone"
    finally:
        worker.close()
    assert [len(payloads) for _, payloads in log] == [8, 1]


async def test_pictures_and_captions_age_past_a_steady_stream_of_replies(
    log: list[tuple[str, list[Any]]],
) -> None:
    def talk(payloads: list[Any]) -> list[Any]:
        time.sleep(0.01)
        return Recorder("text", log)(payloads)

    worker = Worker(
        [
            Stage("text", 0, talk, 1),
            Stage("caption", 1, Recorder("caption", log), 1),
            Stage("image", 2, Recorder("image", log), 1),
        ],
        queue_size=64,
        aging_s=0.05,
    )
    stop = asyncio.Event()

    async def chatty(user: int) -> None:
        while not stop.is_set():
            await worker.submit("text", user, chat_key=user)

    talkers = [asyncio.create_task(chatty(u)) for u in range(4)]
    try:
        await wait_until(lambda: len(log) >= 4)
        side_jobs = asyncio.gather(worker.submit("image", "p"), worker.submit("caption", "c"))
        assert await asyncio.wait_for(side_jobs, 5) == ["image:p", "caption:c"]
        served_before = len(log)
        await wait_until(lambda: len(log) >= served_before + 4)  # replies kept streaming
    finally:
        stop.set()
        await asyncio.gather(*talkers)
        worker.close()
    kinds = [kind for kind, _ in log]
    assert kinds.index("caption") < len(kinds) - 1 and kinds.index("image") < len(kinds) - 1


async def test_a_row_that_needs_another_try_does_not_hold_back_its_batch() -> None:
    retry_gate = threading.Event()
    runs: list[list[str]] = []

    def speak(payloads: list[str]) -> list[Any]:
        runs.append(list(payloads))
        if "again" in payloads:
            retry_gate.wait(5)
        return [Retry("again") if p == "garbled" else f"said:{p}" for p in payloads]

    worker = Worker([Stage("text", 0, speak, 8)], queue_size=8, batch_window_s=0.2)
    try:
        clean = asyncio.create_task(worker.submit("text", "clean", chat_key=1))
        garbled = asyncio.create_task(worker.submit("text", "garbled", chat_key=2))
        assert await clean == "said:clean"  # answered while the retry is still running
        assert not garbled.done()
        retry_gate.set()
        assert await garbled == "said:again"
    finally:
        retry_gate.set()
        worker.close()
    assert runs == [["clean", "garbled"], ["again"]]


async def test_a_retry_that_asks_for_another_retry_fails_instead_of_looping() -> None:
    worker = Worker([Stage("text", 0, lambda ps: [Retry(p) for p in ps], 1)], queue_size=4)
    try:
        with pytest.raises(StageFailed):
            await worker.submit("text", "x")
    finally:
        worker.close()


async def test_a_row_that_fails_fails_only_its_caller(log: list[tuple[str, list[Any]]]) -> None:
    """One bad voice (say, a broken preset) loses that voice, not the rest of the batch."""

    def speak(payloads: list[str]) -> list[Any]:
        log.append(("speech", list(payloads)))
        return [StageFailed("bad preset") if p == "bad" else f"said:{p}" for p in payloads]

    worker = Worker([Stage("speech", 0, speak, 8)], queue_size=8, batch_window_s=0.2)
    try:
        jobs = [worker.submit("speech", p, chat_key=p) for p in ("a", "bad", "c")]
        results = await asyncio.gather(*jobs, return_exceptions=True)
    finally:
        worker.close()
    assert len(log) == 1  # one batch
    assert results[0] == "said:a" and results[2] == "said:c"
    assert isinstance(results[1], StageFailed) and "bad preset" in str(results[1])


class OutOfMemoryError(RuntimeError):
    """What torch raises (torch.OutOfMemoryError); the worker knows it by name, not torch."""


async def test_a_batch_that_runs_out_of_memory_is_tried_again_in_halves() -> None:
    sizes: list[int] = []
    freed: list[BaseException] = []

    def generate(payloads: list[int]) -> list[int]:
        sizes.append(len(payloads))
        if len(payloads) > 2:
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [p * 10 for p in payloads]

    worker = Worker(
        [Stage("text", 0, generate, 8)], queue_size=8, batch_window_s=0.2, on_failure=freed.append
    )
    try:
        results = await asyncio.gather(*(worker.submit("text", i, chat_key=i) for i in range(8)))
    finally:
        worker.close()
    assert results == [i * 10 for i in range(8)]  # every user answered
    assert sizes == [8, 4, 2, 2, 4, 2, 2]
    assert len(freed) == 3  # memory given back after each failed batch


async def test_other_failures_are_not_retried_in_halves() -> None:
    sizes: list[int] = []

    def broken(payloads: list[int]) -> list[int]:
        sizes.append(len(payloads))
        raise ValueError("a bug")

    worker = Worker([Stage("text", 0, broken, 8)], queue_size=8, batch_window_s=0.2)
    try:
        results = await asyncio.gather(
            *(worker.submit("text", i, chat_key=i) for i in range(4)), return_exceptions=True
        )
    finally:
        worker.close()
    assert sizes == [4]
    assert all(isinstance(r, StageFailed) for r in results)


async def test_the_worker_says_how_long_its_batch_has_run() -> None:
    gate = threading.Event()
    worker = Worker([Stage("video", 0, Recorder("video", [], gate), 1)], queue_size=4)
    try:
        assert worker.busy_for == 0.0
        job = asyncio.create_task(worker.submit("video", 1))
        await wait_until(lambda: worker.busy_for > 0.05)
        gate.set()
        await job
        await wait_until(lambda: worker.busy_for == 0.0)
    finally:
        worker.close()
