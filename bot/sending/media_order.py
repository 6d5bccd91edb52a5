"""What follows a line (its voice, picture and video) is made in the background and sent in
order: per chat, each kind in the order of the lines, never before its own line, and never
holding up the chat's next message. /forget and /reset stop what is still being made."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

from telegram.ext import Application

log = logging.getLogger(__name__)

Kind = Literal["voice", "picture", "video"]
KINDS: tuple[Kind, ...] = ("voice", "picture", "video")


class Ticket:
    """One line's place in its chat's order: `turn(kind)` waits until the previous line's
    `kind` was sent (or given up); leaving it lets the next line's `kind` go."""

    def __init__(self, previous: dict[Kind, asyncio.Future[None]]) -> None:
        loop = asyncio.get_running_loop()
        self._previous = previous
        self.done: dict[Kind, asyncio.Future[None]] = {k: loop.create_future() for k in KINDS}

    @contextlib.asynccontextmanager
    async def turn(self, kind: Kind) -> AsyncIterator[None]:
        """The body sends this line's `kind`: after the previous line's, before the next's."""
        previous = self._previous.get(kind)
        try:
            if previous is not None:
                await asyncio.shield(previous)  # waiting must not cancel the other line
            yield
        finally:
            self._release(kind)

    def release_all(self) -> None:
        """Whatever this line did not send, the next line need not wait for."""
        for kind in KINDS:
            self._release(kind)

    def _release(self, kind: Kind) -> None:
        done = self.done[kind]
        if done.done():
            return
        previous = self._previous.get(kind)
        if previous is None or previous.done():
            done.set_result(None)
        else:  # in order still: free once the line before is done too
            previous.add_done_callback(lambda _: _resolve(done))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


Work = Callable[[Ticket], Awaitable[None]]


class MediaOrder:
    """Every chat's lines with media still on their way, and each character's work."""

    def __init__(self) -> None:
        self._last: dict[int, dict[Kind, asyncio.Future[None]]] = {}
        self._work: dict[int, set[asyncio.Task[None]]] = {}  # character id -> its tasks

    def follow(
        self, application: Application, chat_id: int, character_id: int, work: Work
    ) -> asyncio.Task[None] | None:
        """Start `work` for a line just sent in `chat_id`, in the background, with its ticket.
        None when the bot is stopping (no new background work then)."""
        if not application.running:
            return None
        ticket = Ticket(self._last.get(chat_id, {}))
        self._last[chat_id] = ticket.done

        async def run() -> None:
            try:
                await work(ticket)
            except asyncio.CancelledError:
                log.info("character %d was forgotten: its media stopped", character_id)

        task: asyncio.Task[None] = application.create_task(
            run(), update=None, name=f"media-{character_id}"
        )
        self._work.setdefault(character_id, set()).add(task)
        # Also when cancelled before it ever ran: the next line must not wait for this one.
        task.add_done_callback(lambda done: self._finished(chat_id, character_id, ticket, done))
        return task

    def stop(self, character_ids: list[int]) -> int:
        """Cancel what is still being made for these characters; how many were stopped."""
        stopped = 0
        for character_id in character_ids:
            for task in self._work.pop(character_id, set()):
                stopped += task.cancel()
        return stopped

    def pending(self, character_id: int) -> int:
        return len(self._work.get(character_id, ()))

    def _finished(
        self, chat_id: int, character_id: int, ticket: Ticket, task: asyncio.Task[None]
    ) -> None:
        ticket.release_all()
        tasks = self._work.get(character_id)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self._work[character_id]
        last = ticket.done

        def forget_chat(_: object) -> None:
            if self._last.get(chat_id) is last:
                del self._last[chat_id]  # the chat's newest line is all sent: nothing to wait for

        asyncio.gather(*last.values()).add_done_callback(forget_chat)
