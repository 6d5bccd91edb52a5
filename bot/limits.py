"""Per-sender limits: photos per hour and messages answered at once, in memory (reset on
restart) and bounded: a sender is tracked only while they have photos in the last hour or
messages being answered."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

PHOTO_WINDOW_S = 3600.0
# Expired photo entries are swept whenever the table has doubled since the last sweep.
MIN_SWEEP_AT = 1024


@dataclass
class _Jobs:
    slots: asyncio.Semaphore
    users: int = 0  # holding or waiting: the entry goes when this is back to 0


class UserLimits:
    """Counts what each sender is doing so one of them cannot occupy the GPU for everyone."""

    def __init__(
        self,
        *,
        photos_per_hour: int,
        jobs_per_user: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._photos_per_hour = photos_per_hour
        self._jobs_per_user = jobs_per_user
        self._clock = clock
        self._photos: dict[int, deque[float]] = {}
        self._jobs: dict[int, _Jobs] = {}
        self._sweep_at = MIN_SWEEP_AT

    @property
    def tracked(self) -> int:
        """How many senders are remembered right now (bounded by recent activity)."""
        return len(self._photos) + len(self._jobs)

    def may_take_photo(self, user_id: int) -> bool:
        """Whether `user_id` has a photo left this hour (nothing is counted yet)."""
        return self._photos_per_hour == 0 or len(self._recent(user_id)) < self._photos_per_hour

    def take_photo(self, user_id: int) -> bool:
        """Count an accepted photo for `user_id`; False when the hourly limit is reached."""
        if self._photos_per_hour == 0:
            return True
        if not self.may_take_photo(user_id):
            return False
        self._photos.setdefault(user_id, deque()).append(self._clock())
        if len(self._photos) >= self._sweep_at:
            self._sweep()
        return True

    @contextlib.asynccontextmanager
    async def job(self, user_id: int) -> AsyncIterator[None]:
        """Hold one of the sender's MAX_JOBS_PER_USER slots for the body; waits its turn
        (never refuses) when all are taken."""
        jobs = self._jobs.get(user_id)
        if jobs is None:
            jobs = self._jobs[user_id] = _Jobs(asyncio.Semaphore(self._jobs_per_user))
        jobs.users += 1
        try:
            async with jobs.slots:
                yield
        finally:
            jobs.users -= 1
            if jobs.users == 0:
                del self._jobs[user_id]

    def _recent(self, user_id: int) -> deque[float]:
        recent = self._photos.get(user_id)
        if recent is None:
            return deque()
        now = self._clock()
        while recent and now - recent[0] >= PHOTO_WINDOW_S:
            recent.popleft()
        if not recent:
            del self._photos[user_id]
        return recent

    def _sweep(self) -> None:
        for user_id in list(self._photos):
            self._recent(user_id)
        self._sweep_at = max(MIN_SWEEP_AT, 2 * len(self._photos))
