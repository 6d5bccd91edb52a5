"""The order media goes out in, per chat: each kind in the order of its lines, whatever
finished making first; stopped work frees the next line's turn."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.sending.media_order import MediaOrder, Ticket


class Running:
    """What MediaOrder needs of PTB's Application (this layer's unit tests only)."""

    running = True

    def create_task(self, coroutine: Any, update: Any = None, name: str = "") -> Any:
        return asyncio.get_running_loop().create_task(coroutine, name=name)


def line(sent: list[str], name: str, ready: asyncio.Event, kinds: tuple[str, ...]) -> Any:
    async def work(ticket: Ticket) -> None:
        await ready.wait()  # the voice (picture, video) is being made
        for kind in kinds:
            async with ticket.turn(kind):
                sent.append(f"{name}:{kind}")

    return work


async def test_a_later_lines_media_waits_for_the_earlier_lines_of_the_same_kind() -> None:
    order, sent = MediaOrder(), []
    first, second = asyncio.Event(), asyncio.Event()
    tasks = [
        order.follow(Running(), 1, 10, line(sent, "first", first, ("voice", "video"))),
        order.follow(Running(), 1, 10, line(sent, "second", second, ("voice", "video"))),
    ]
    second.set()  # the second line's media is ready first...
    await asyncio.sleep(0.05)
    assert sent == []  # ...but waits for the first line's
    first.set()
    await asyncio.gather(*tasks)
    assert sent == ["first:voice", "first:video", "second:voice", "second:video"]


async def test_chats_do_not_wait_for_each_other() -> None:
    order, sent = MediaOrder(), []
    slow, quick = asyncio.Event(), asyncio.Event()
    held = order.follow(Running(), 1, 10, line(sent, "chat1", slow, ("voice",)))
    done = order.follow(Running(), 2, 20, line(sent, "chat2", quick, ("voice",)))
    quick.set()
    await done
    assert sent == ["chat2:voice"]
    slow.set()
    await held


async def test_a_line_without_a_voice_or_a_stopped_line_does_not_hold_the_next() -> None:
    order, sent = MediaOrder(), []
    never, ready = asyncio.Event(), asyncio.Event()
    stopped = order.follow(Running(), 1, 10, line(sent, "forgotten", never, ("voice",)))
    silent = order.follow(Running(), 1, 11, line(sent, "silent", ready, ()))
    spoken = order.follow(Running(), 1, 11, line(sent, "spoken", ready, ("voice",)))
    assert order.pending(10) == 1 and order.pending(11) == 2
    assert order.stop([10]) == 1  # /forget of character 10
    ready.set()
    await asyncio.gather(silent, spoken)
    assert stopped is not None and stopped.done()
    assert sent == ["spoken:voice"]
    assert order.pending(10) == 0 and order.pending(11) == 0


async def test_nothing_new_starts_while_the_bot_stops() -> None:
    stopping = Running()
    stopping.running = False
    assert MediaOrder().follow(stopping, 1, 10, line([], "x", asyncio.Event(), ())) is None
