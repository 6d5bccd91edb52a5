"""The messages taken from Telegram and not yet answered (crash recovery)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Arrival
from storage.queries._common import rowcount
from storage.records import ArrivalRecord


async def keep_arrival(
    session: AsyncSession,
    *,
    update_id: int,
    chat_id: int,
    user_id: int | None,
    telegram_message_id: int,
    payload: str,
) -> None:
    """Keep an update until it is answered; one already kept (handled again after a restart)
    stays as it is."""
    if await session.get(Arrival, update_id) is None:
        session.add(
            Arrival(
                update_id=update_id,
                chat_id=chat_id,
                user_id=user_id,
                telegram_message_id=telegram_message_id,
                payload=payload,
            )
        )


async def settle_arrivals(session: AsyncSession, update_ids: list[int]) -> int:
    """Answered (or told to send again): no longer kept. Returns how many went."""
    if not update_ids:
        return 0
    result = await session.execute(delete(Arrival).where(Arrival.update_id.in_(update_ids)))
    return rowcount(result)


async def unanswered_arrivals(session: AsyncSession) -> list[ArrivalRecord]:
    """Every kept arrival, oldest first (what a restart finds)."""
    rows = await session.scalars(select(Arrival).order_by(Arrival.received_at, Arrival.update_id))
    return [
        ArrivalRecord(
            update_id=row.update_id,
            chat_id=row.chat_id,
            user_id=row.user_id,
            telegram_message_id=row.telegram_message_id,
            payload=row.payload,
            received_at=row.received_at,
        )
        for row in rows
    ]
