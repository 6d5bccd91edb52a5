"""What a chat's waiting line does with its messages: photos one by one, and a burst of texts
from one sender to one character folded into one answer."""

from __future__ import annotations

from bot.chat_queues import Arrival
from bot.handlers import photos, text_messages
from bot.handlers.common import Place


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
    """The ChatQueues' answer: every waiting message of one chat, in order."""
    for run in runs(batch):
        if run[0].photo is not None:
            await photos.meet_arrival(run[0])
        else:
            await text_messages.answer(run)
