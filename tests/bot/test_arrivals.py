"""Which waiting messages are answered together (a pure function, no bot)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update, User

from bot.chat_queues import Arrival
from bot.handlers.arrivals import runs

GROUP = Chat(-100, Chat.SUPERGROUP, title="Family")
ALICE, BOB = User(1, "Alice", False), User(2, "Bob", False)
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def arrival(
    message_id: int,
    user: User,
    *,
    reply_to: int | None = None,
    photo: bool = False,
    sender_chat: Chat | None = None,
) -> Arrival:
    target = Message(reply_to, NOW, GROUP, from_user=User(9, "Bot", True)) if reply_to else None
    message = Message(
        message_id,
        NOW,
        GROUP,
        from_user=user,
        text="hi",
        reply_to_message=target,
        sender_chat=sender_chat,
    )
    context: Any = None
    return Arrival(Update(message_id, message=message), context, "hi", message if photo else None)


def ids(batch: list[list[Arrival]]) -> list[list[int]]:
    return [[a.message.message_id for a in run] for run in batch]


def test_a_burst_of_one_sender_to_one_message_is_answered_once() -> None:
    batch = [arrival(1, ALICE, reply_to=50), arrival(2, ALICE, reply_to=50), arrival(3, ALICE)]
    assert ids(runs(batch)) == [[1, 2], [3]]


def test_other_senders_and_photos_are_answered_apart_in_order() -> None:
    batch = [
        arrival(1, ALICE),
        arrival(2, BOB),
        arrival(3, BOB),
        arrival(4, BOB, photo=True),
        arrival(5, BOB),
        arrival(6, ALICE, sender_chat=GROUP),  # an anonymous admin is not Alice
        arrival(7, ALICE),
    ]
    assert ids(runs(batch)) == [[1], [2, 3], [4], [5], [6], [7]]
