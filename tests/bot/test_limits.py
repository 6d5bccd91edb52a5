"""UserLimits on its own: bounded memory, waiting (never refusing) for a job slot."""

from __future__ import annotations

import asyncio

from bot.limits import PHOTO_WINDOW_S, UserLimits


def test_senders_are_forgotten_once_their_hour_is_over() -> None:
    now = [0.0]
    limits = UserLimits(photos_per_hour=2, jobs_per_user=1, clock=lambda: now[0])
    for user_id in range(5000):
        assert limits.take_photo(user_id)
    assert limits.tracked == 5000
    assert limits.take_photo(7) and not limits.take_photo(7)  # the limit still holds
    now[0] = PHOTO_WINDOW_S + 1
    # New senders: once the table has doubled, the expired ones are swept out.
    for user_id in range(5000, 15000):
        assert limits.take_photo(user_id)
    assert limits.tracked == 10000  # the live ones only: memory follows the last hour
    assert limits.take_photo(7)


async def test_a_second_job_waits_its_turn_and_nothing_stays_tracked() -> None:
    limits = UserLimits(photos_per_hour=0, jobs_per_user=1)
    order: list[str] = []

    async def job(name: str, hold: asyncio.Event | None) -> None:
        async with limits.job(42):
            order.append(f"{name} starts")
            if hold is not None:
                await hold.wait()
            order.append(f"{name} ends")

    hold = asyncio.Event()
    first = asyncio.create_task(job("first", hold))
    await asyncio.sleep(0)
    second = asyncio.create_task(job("second", None))
    await asyncio.sleep(0.01)
    assert order == ["first starts"]
    hold.set()
    await asyncio.gather(first, second)
    assert order == ["first starts", "first ends", "second starts", "second ends"]
    assert limits.tracked == 0
