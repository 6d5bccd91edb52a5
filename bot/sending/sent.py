"""Every message the bot sends for a character's line is remembered with the line's turn, so
a reply to any of them (a piece of the text, the voice, a picture, the video) reaches that
character."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Message

from bot.services import Services
from storage import queries
from storage.errors import NotFound
from storage.records import SentKind

log = logging.getLogger(__name__)


async def remember_sent(
    svc: Services, turn_id: int, kind: SentKind, messages: Sequence[Message]
) -> None:
    """Link Telegram messages sent for a character's turn to it; a turn cleared meanwhile
    (/reset, /forget) has nothing left to link them to."""
    try:
        async with svc.sessions() as session, session.begin():
            await queries.add_sent_messages(
                session, turn_id, kind, [message.message_id for message in messages]
            )
    except NotFound:
        log.info("turn %d was cleared while its %s was sent", turn_id, kind)
