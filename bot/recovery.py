"""Nothing taken is lost: every message in a chat's line is kept until it is answered, and a
restart answers what a killed process left (or asks its sender to send it again).

Telegram considers a message delivered once the bot has fetched it; from then on it lives in
this process only. So each one is stored (the update as it came) when it joins its chat's
line and let go once answered or refused. At start, what is still stored was cut short by a
crash, a kill or an out-of-memory: handled again as it came if it is recent (within
RECOVER_WINDOW_S), else its sender is asked to send it again.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from telegram import ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.chat_queues import Arrival
from bot.handlers.common import Place
from bot.services import Services, services
from bot.texts import text
from inference.language import language_from_code
from storage import queries
from storage.records import ArrivalRecord

log = logging.getLogger(__name__)

# Older than this, a lost message is not worth a "send it again" either.
TELL_WITHIN = timedelta(days=1)


async def keep(arrival: Arrival) -> None:
    """Store the arrival's update until it is answered; a failure to store loses only that
    safety net, never the message."""
    svc, update = services(arrival.context), arrival.update
    place = Place.of(update)
    try:
        async with svc.sessions() as session, session.begin():
            await queries.keep_arrival(
                session,
                update_id=update.update_id,
                chat_id=place.chat_id,
                user_id=place.user_id,
                telegram_message_id=arrival.message.message_id,
                payload=json.dumps(update.to_dict()),
            )
    except Exception:
        log.exception("could not keep update %d until it is answered", update.update_id)


async def settle(batch: list[Arrival]) -> None:
    """Answered (or told what went wrong): no longer kept."""
    svc = services(batch[0].context)
    try:
        async with svc.sessions() as session, session.begin():
            await queries.settle_arrivals(session, [a.update.update_id for a in batch])
    except Exception:
        log.exception("could not let %d answered update(s) go", len(batch))


async def recover(application: Application, svc: Services) -> int:
    """At start: what a stopped process took but never answered. Recent ones are handled
    again as they came; older ones get a "please send it again". Returns how many."""
    async with svc.sessions() as session:
        kept = await queries.unanswered_arrivals(session)
    if not kept:
        return 0
    now = datetime.now(UTC)
    window = timedelta(seconds=svc.settings.recover_window_s)
    again: list[ArrivalRecord] = []
    lost: list[ArrivalRecord] = []
    for arrival in kept:
        (again if now - arrival.received_at <= window else lost).append(arrival)
    for arrival in again:
        update = Update.de_json(json.loads(arrival.payload), application.bot)
        svc.replayed[update.update_id] = 0  # Telegram may send it again too: once is enough
        application.update_queue.put_nowait(update)
    for arrival in lost:
        if now - arrival.received_at <= TELL_WITHIN:
            await _ask_to_send_again(application, arrival)
    async with svc.sessions() as session, session.begin():
        await queries.settle_arrivals(session, [a.update_id for a in lost])
    log.warning(
        "%d message(s) taken but not answered before the last stop: %d answered now, "
        "%d senders asked to send again",
        len(kept),
        len(again),
        len(lost),
    )
    return len(kept)


async def _ask_to_send_again(application: Application, arrival: ArrivalRecord) -> None:
    payload = json.loads(arrival.payload)
    message = payload.get("message") or {}
    sender = message.get("from") or {}
    lang = language_from_code(sender.get("language_code"))
    try:
        await application.bot.send_message(
            arrival.chat_id,
            text("send_again", lang),
            reply_parameters=ReplyParameters(
                arrival.telegram_message_id, allow_sending_without_reply=True
            ),
        )
    except TelegramError:
        log.info("could not ask chat %d to send a lost message again", arrival.chat_id)


def seen_before(svc: Services, update: Update) -> bool:
    """A recovered update Telegram delivered once more: handled already, not twice."""
    count = svc.replayed.get(update.update_id)
    if count is None:
        return False
    svc.replayed[update.update_id] = count + 1
    return count >= 1
