"""The Bot API calls that send: texts split to fit, photos, voices and videos, chat actions,
and the rate limiter that retries transient faults around every call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import AIORateLimiter

from bot.telegram_text import fit_caption, split_message
from inference.face.video import TalkingVideo

log = logging.getLogger(__name__)
T = TypeVar("T")

SEND_ATTEMPTS = 3


# The connection failed before the request left: Telegram never saw it.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def may_repeat(exc: TelegramError, *, reads_only: bool) -> bool:
    """Whether a failed Bot API call can be made again without doing it twice: always for a
    call that only reads; for one that sends or changes something, only when the request
    never left, or Telegram answered with a 5xx. A timeout or a dropped connection after
    the request was sent may hide a call Telegram carried out (PTB: "may have succeeded")."""
    if not isinstance(exc, NetworkError) or isinstance(exc, BadRequest):  # 4xx, 429: final
        return False
    if reads_only:
        return True
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPError):  # no answer came
        return isinstance(cause, _NEVER_SENT)
    # Answered (a 5xx, its page perhaps not JSON), not an unknown failure inside PTB.
    return cause is None or isinstance(cause, TelegramError)


async def retrying(
    call: Callable[[], Awaitable[T]], *, reads_only: bool, attempts: int = SEND_ATTEMPTS
) -> T:
    """Run a Bot API call, retrying with backoff what `may_repeat` (429s are the rate
    limiter's)."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except TelegramError as exc:
            if attempt == attempts or not may_repeat(exc, reads_only=reads_only):
                raise
            delay = 0.5 * 2 ** (attempt - 1)
            log.warning(
                "Telegram call failed (%s), retry %d in %.1f s", type(exc).__name__, attempt, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class RetryingRateLimiter(AIORateLimiter):
    """PTB's flood control (429s waited out), plus `retrying` around every Bot API call:
    replies, edits and getFile all survive a 5xx or a request that never left, and reads
    (get*) a timeout too; a send that timed out is never repeated (see `may_repeat`).
    Drafts never delay a final message: one goes only when it would wait for nothing.
    `on_sent(method)` is told of every send* call that succeeded (for /metrics)."""

    def __init__(
        self, *args: Any, on_sent: Callable[[str], None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._on_sent = on_sent
        self._finals_waiting = 0  # calls other than drafts that wait for the limiter

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint == "sendChatAction":
            # Cosmetic: never counted against a group's ~20 messages a minute (it would delay
            # the answers it announces), never retried; show_action ignores its failures.
            return await callback(*args, **kwargs)
        limited = super().process_request
        if endpoint == "sendMessageDraft":  # a preview, the final message follows: no retries
            if not self._room_for_a_draft():
                return True  # skipped, as if shown: the next draft or the final has newer text
            return await limited(callback, args, kwargs, endpoint, data, rate_limit_args)
        with self._waiting(callback) as call:
            result = await retrying(
                lambda: limited(call, args, kwargs, endpoint, data, rate_limit_args),
                reads_only=endpoint.startswith("get"),
            )
        if self._on_sent is not None and endpoint.startswith("send"):
            self._on_sent(endpoint)
        return result

    def _room_for_a_draft(self) -> bool:
        """A draft would pass the limiter at once and no final message waits there. (PTB's
        AIORateLimiter queues every call in one line, first come first served: a draft
        queued there would go before a final message that came after it.)"""
        overall = self._base_limiter
        return (
            self._finals_waiting == 0
            and self._retry_after_event.is_set()  # no flood wait under way
            and (overall is None or overall.has_capacity())
        )

    @contextlib.contextmanager
    def _waiting(self, callback: Any) -> Iterator[Any]:
        """`callback`, counted in `_finals_waiting` until the limiter first lets it run (or
        the call ends without running)."""
        waiting = True

        def done_waiting() -> None:
            nonlocal waiting
            if waiting:
                waiting = False
                self._finals_waiting -= 1

        async def run(*args: Any, **kwargs: Any) -> Any:
            done_waiting()
            return await callback(*args, **kwargs)

        self._finals_waiting += 1
        try:
            yield run
        finally:
            done_waiting()


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send `text` (split at 4096) as plain text; returns the first message sent. Transient
    faults are retried by the bot's RetryingRateLimiter."""
    return (await send_pieces(bot, chat_id, text, reply_to=reply_to, markup=markup))[0]


async def send_pieces(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """`send_text`, returning every message sent: one per piece of a long text."""
    pieces = split_message(text) or ["…"]
    sent = []
    for index, piece in enumerate(pieces):
        sent.append(
            await bot.send_message(
                chat_id,
                piece,
                reply_parameters=_reply(reply_to if index == 0 else None),
                reply_markup=markup if index == len(pieces) - 1 else None,
            )
        )
    return sent


async def send_picture(
    bot: Bot, chat_id: int, jpeg: bytes, *, reply_to: int | None, caption: str | None = None
) -> Message:
    """Send a JPEG as a photo replying to `reply_to`."""
    return await bot.send_photo(
        chat_id,
        jpeg,
        caption=fit_caption(caption) if caption else None,
        reply_parameters=_reply(reply_to),
    )


async def send_voice(
    bot: Bot, chat_id: int, ogg_opus: bytes, *, duration_s: float, reply_to: int | None
) -> Message:
    """Send OGG/Opus bytes as a voice message (with its duration) replying to `reply_to`."""
    return await bot.send_voice(
        chat_id,
        ogg_opus,
        duration=max(1, math.ceil(duration_s)),
        reply_parameters=_reply(reply_to),
    )


async def send_video(
    bot: Bot, chat_id: int, video: TalkingVideo, *, note: bool, reply_to: int | None
) -> Message:
    """Send a talking video: a round video note, else a video with sound, or a silent
    animation (a GIF-like loop) when it has none."""
    duration = max(1, math.ceil(video.duration_s))
    if note:
        return await bot.send_video_note(
            chat_id,
            video.mp4,
            duration=duration,
            length=video.width,
            filename="talking.mp4",
            reply_parameters=_reply(reply_to),
        )
    send = bot.send_video if video.has_sound else bot.send_animation
    return await send(
        chat_id,
        video.mp4,
        duration=duration,
        width=video.width,
        height=video.height,
        filename="talking.mp4",
        reply_parameters=_reply(reply_to),
    )


async def show_action(bot: Bot, chat_id: int, action: str = ChatAction.TYPING) -> None:
    """ "typing…" in the chat header; purely cosmetic, so failures are ignored."""
    try:
        await bot.send_chat_action(chat_id, action)
    except Exception:
        log.debug("chat action failed", exc_info=True)


# Telegram shows a chat action for about 5 s. Repeating it every 8 s leaves short gaps but
# costs half the calls of keeping it shown without a break.
ACTION_REFRESH_S = 8.0


@contextlib.asynccontextmanager
async def action_while_slow(
    bot: Bot, chat_id: int, action: str = ChatAction.TYPING, *, after_s: float = 0.5
) -> AsyncIterator[None]:
    """Show "typing…" only when the body takes longer than `after_s`, and keep it shown.

    A fast reply then costs one Bot API call instead of two (Telegram allows ~30 a second).
    """

    async def keep_showing() -> None:
        await asyncio.sleep(after_s)
        while True:
            await show_action(bot, chat_id, action)
            await asyncio.sleep(ACTION_REFRESH_S)

    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
