"""Per chat, the messages waiting while the characters there are still answering: none is
refused or lost, each chat is answered in the order its messages came. Each message is kept
(stored) from the moment it joins its line until it is answered, so a killed process loses
none of them: a restart answers them (bot/recovery.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import Message, Update
from telegram.ext import ContextTypes

from inference.types import Language

if TYPE_CHECKING:
    from bot.handlers.voice_notes import Recording

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arrival:
    """One message waiting its turn: words for a character, or a photo to meet (`photo`)."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    said: str
    photo: Message | None = None
    spoken: bool = False  # `said` is the transcript of a voice note
    heard: Language | None = None  # the language the voice note was in
    arrived: float = field(default_factory=time.monotonic)
    # A voice note not yet heard: transcribed when its turn comes (`said` is empty till then).
    recording: Recording | None = None

    @property
    def message(self) -> Message:
        message = self.update.effective_message
        assert message is not None
        return message


Answer = Callable[[list[Arrival]], Awaitable[None]]
# Keep an arrival until it is answered; let answered (or refused) ones go.
Keep = Callable[[Arrival], Awaitable[None]]
Settle = Callable[[list[Arrival]], Awaitable[None]]


class ChatQueues:
    """The waiting line of every chat where something is being answered right now.

    The first message of a quiet chat is answered by its own handler, which then answers what
    arrived meanwhile, all of it at once (`answer` may fold several texts into one answer),
    until the line is empty. A chat leaves the table when its line is empty.
    """

    def __init__(self, answer: Answer, keep: Keep, settle: Settle) -> None:
        self._answer = answer
        self._keep = keep
        self._settle = settle
        self._waiting: dict[int, list[Arrival]] = {}

    def waiting(self, chat_id: int) -> int:
        """How many messages of the chat wait behind the one being answered."""
        return len(self._waiting.get(chat_id, ()))

    @property
    def busy_chats(self) -> int:
        return len(self._waiting)

    async def serve(self, chat_id: int, arrival: Arrival) -> None:
        """Answer `arrival` now, or queue it behind the chat's message being answered.

        Call it before the handler's first `await`: updates are dispatched in order, so the
        line keeps the order in which Telegram delivered the messages.
        """
        if chat_id in self._waiting:
            self._waiting[chat_id].append(arrival)
            await self._keep(arrival)  # its place is taken: now it survives a crash too
            return
        self._waiting[chat_id] = []
        await self._keep(arrival)
        batch = [arrival]
        try:
            while batch:
                try:
                    await self._answer(batch)
                except Exception:
                    # The answer tells the user itself; this only keeps the line moving.
                    log.exception("answering %d message(s) in chat %d failed", len(batch), chat_id)
                await self._settle(batch)  # answered, or told what went wrong
                batch, self._waiting[chat_id] = self._waiting[chat_id], []
        finally:
            left = self._waiting.pop(chat_id, [])
            if left:  # only on cancellation (shutdown): nothing else leaves a line behind
                log.warning("chat %d: %d waiting message(s) not answered", chat_id, len(left))
