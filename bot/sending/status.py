"""The status note of a photo being met: one message, edited as the stages finish."""

from __future__ import annotations

import logging

from telegram import Bot, Message
from telegram.error import BadRequest

from bot.sending.bot_api import send_text

log = logging.getLogger(__name__)


class StatusMessage:
    """One message that says what the bot is doing, edited as the stages finish.

    A quiet status (groups) shows progress only as a chat action: a shared chat should not
    fill with progress notes, and Telegram allows a group ~20 messages a minute. Failures are
    still said, as a reply to the user's message.
    """

    def __init__(self, bot: Bot, chat_id: int, message: Message | None, reply_to: int | None):
        self._bot, self._chat_id, self._message, self._reply_to = bot, chat_id, message, reply_to

    @classmethod
    async def post(
        cls, bot: Bot, chat_id: int, text: str, *, reply_to: int | None, quiet: bool = False
    ) -> StatusMessage:
        if quiet:
            return cls(bot, chat_id, None, reply_to)
        return cls(bot, chat_id, await send_text(bot, chat_id, text, reply_to=reply_to), reply_to)

    async def update(self, text: str) -> None:
        """Edit the status; an edit that fails only loses a progress hint, so it is logged."""
        if self._message is None:
            return
        try:
            await self._bot.edit_message_text(text, self._chat_id, self._message.message_id)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                log.warning("could not edit the status message: %s", exc.message)
        except Exception:
            log.warning("could not edit the status message", exc_info=True)

    async def fail(self, text: str) -> None:
        """Say what went wrong: in the status message, or (quiet) as a reply."""
        if self._message is not None:
            await self.update(text)
            return
        try:
            await send_text(self._bot, self._chat_id, text, reply_to=self._reply_to)
        except Exception:
            log.warning("could not tell chat %d about a failure", self._chat_id, exc_info=True)
