"""What a chat's waiting line does with its messages: photos one by one, and a burst of texts
from one sender to one character folded into one answer."""

from __future__ import annotations

import logging

from bot.chat_queues import Arrival
from bot.handlers import photos, text_messages, voice_notes
from bot.handlers.common import Place, user_language
from bot.texts import text

log = logging.getLogger(__name__)


def runs(batch: list[Arrival]) -> list[list[Arrival]]:
    """Split a chat's waiting messages, in order, into what is answered together: each photo
    alone; consecutive texts of one sender replying to the same message (or to none) as one."""
    found: list[list[Arrival]] = []
    for arrival in batch:
        last = found[-1][-1] if found else None
        if (
            last is not None
            and arrival.photo is None
            and last.photo is None
            and _addressee(arrival) == _addressee(last)
        ):
            found[-1].append(arrival)
        else:
            found.append([arrival])
    return found


def _addressee(arrival: Arrival) -> tuple[int, int | None]:
    reply = arrival.message.reply_to_message
    return Place.of(arrival.update).user_id, reply.message_id if reply is not None else None


async def answer_arrivals(batch: list[Arrival]) -> None:
    """The ChatQueues' answer: every waiting message of one chat, in order. A failure is said
    to its sender (as the application's error handler would) and the line goes on. Voice
    notes are heard first, in their places."""
    for run in runs([heard for arrival in batch if (heard := await _heard(arrival))]):
        try:
            if run[0].photo is not None:
                await photos.meet_arrival(run[0])
            else:
                await text_messages.answer(run)
        except Exception:
            log.exception("answering chat %d failed", run[-1].message.chat_id)
            await _say_try_again(run[-1])


async def _heard(arrival: Arrival) -> Arrival | None:
    """A voice note transcribed (None: it could not be, its sender was told); else as is."""
    if arrival.recording is None:
        return arrival
    try:
        return await voice_notes.hear(arrival)
    except Exception:
        log.exception("hearing a voice note in chat %d failed", arrival.message.chat_id)
        await _say_try_again(arrival)
        return None


async def _say_try_again(arrival: Arrival) -> None:
    try:
        lang = await user_language(arrival.update, arrival.context)
        await arrival.message.reply_text(text("try_again", lang))
    except Exception:
        log.warning("could not tell chat %d about a failure", arrival.message.chat_id)
