"""A reply that appears while it is being written: Bot API message drafts, in private chats.

Telegram shows a draft (sendMessageDraft) as a preview for about 30 seconds; the final
sendMessage (stored first, as every line) is what stays. Drafts are a courtesy: a failed one
ends the drafting, never the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from telegram import Bot
from telegram.constants import MessageLimit
from telegram.error import TelegramError

log = logging.getLogger(__name__)

# Telegram animates the changes of one draft; sending more often only meets its flood limits.
DRAFT_INTERVAL_S = 0.4
_draft_ids = itertools.count(1)  # draft ids must be non-zero; one per reply


class DraftStream:
    """The `on_draft` callback of one reply (called on the event loop with the text so far):
    sends the newest text as a draft, one request at a time and at most one per
    DRAFT_INTERVAL_S. Call `finish()` before sending the final message."""

    def __init__(self, bot: Bot, chat_id: int, *, interval_s: float = DRAFT_INTERVAL_S) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._interval_s = interval_s
        self.draft_id = next(_draft_ids)
        self._latest = ""
        self._shown = ""
        self._task: asyncio.Task[None] | None = None
        self._sending = False
        self._finished = False

    def __call__(self, text: str) -> None:
        if self._finished:
            return
        self._latest = text[: MessageLimit.MAX_TEXT_LENGTH]
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send_newest())

    async def finish(self) -> None:
        """No more drafts: whatever is pending is dropped, the final message follows.

        A draft already on its way is awaited, not cancelled: cut off mid-request it could
        still reach Telegram, after the final message."""
        self._finished = True
        if self._task is None or self._task.done():
            return
        if not self._sending:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _send_newest(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._finished and self._latest and self._latest != self._shown:
            text, started = self._latest, loop.time()
            self._sending = True
            try:
                await self._bot.send_message_draft(self._chat_id, self.draft_id, text)
            except TelegramError as exc:
                log.info("drafts stopped in chat %d: %s", self._chat_id, exc)
                self._finished = True
                return
            finally:
                self._sending = False
            self._shown = text
            await asyncio.sleep(max(0.0, self._interval_s - (loop.time() - started)))
