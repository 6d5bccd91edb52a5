"""The worker thread: priorities, batching, per-chat fairness, limits and recovery."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from inference.errors import Busy, StageFailed, StageTimeout
from inference.worker import Stage, Worker


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
            await worker.submit("image", "given-up", limit_s=0.05)
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


async def test_close_cancels_waiting_jobs() -> None:
    gate = threading.Event()
    worker = Worker([Stage("image", 0, Recorder("image", [], gate), 1)], queue_size=4)
    running = asyncio.create_task(worker.submit("image", 0))
    await wait_until(lambda: worker.depth == 1)
    waiting = asyncio.create_task(worker.submit("image", 1))
    await wait_until(lambda: worker.depth == 2)
    closing = asyncio.create_task(asyncio.to_thread(worker.close))
    await wait_until(lambda: worker.depth == 1)  # the waiting job is gone, the running one stays
    gate.set()
    await closing
    assert await running == "image:0"
    with pytest.raises(asyncio.CancelledError):
        await waiting
