"""When each user last said /forget, so work that began before it keeps nothing of them.

A photo is described and a character imagined for several seconds; a /forget meanwhile must
not be undone when that work finishes (it would create the user and the character again).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

# Work older than this has timed out long before (STAGE_TIMEOUT_S, QUEUE_TIMEOUT_S).
REMEMBER_S = 3600.0


class Forgotten:
    """/forget times per user, everywhere (private chats) or in one group; in memory only."""

    def __init__(self, remember_s: float = REMEMBER_S) -> None:
        self._remember_s = remember_s
        self._at: dict[tuple[int, int | None], float] = {}

    def mark(self, user_id: int, chat_id: int | None = None) -> None:
        """`user_id` said /forget now: everywhere, or only in the group `chat_id`."""
        now = time.monotonic()
        self._at = {key: at for key, at in self._at.items() if now - at < self._remember_s}
        self._at[(user_id, chat_id)] = now

    def since(self, started: float, user_ids: Iterable[int | None], chat_id: int) -> bool:
        """Whether any of `user_ids` said /forget (here or everywhere) after `started`
        (a `time.monotonic()` reading)."""
        return any(
            self._at.get((user_id, scope), 0.0) > started
            for user_id in user_ids
            if user_id is not None
            for scope in (None, chat_id)
        )
