"""Per-user limits: photos per hour and jobs in flight, kept in memory (they reset on restart)."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class UserLimits:
    """Counts what each user is doing so one user cannot occupy the GPU for everyone."""

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
        self._photos: defaultdict[int, deque[float]] = defaultdict(deque)
        self._in_flight: defaultdict[int, int] = defaultdict(int)

    def take_photo(self, user_id: int) -> bool:
        """Record a photo for `user_id`; False when the hourly limit is reached (0 = no limit)."""
        if self._photos_per_hour == 0:
            return True
        now = self._clock()
        recent = self._photos[user_id]
        while recent and now - recent[0] >= 3600:
            recent.popleft()
        if len(recent) >= self._photos_per_hour:
            return False
        recent.append(now)
        return True

    def start_job(self, user_id: int) -> bool:
        """Mark a job as started for `user_id`; False when they already have the maximum."""
        if self._in_flight[user_id] >= self._jobs_per_user:
            return False
        self._in_flight[user_id] += 1
        return True

    def finish_job(self, user_id: int) -> None:
        self._in_flight[user_id] -= 1
        if self._in_flight[user_id] <= 0:
            del self._in_flight[user_id]
