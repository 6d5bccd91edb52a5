"""Photos known to have no face to animate, by Telegram file id, so a character's later lines
cost no photo download and no face search (the photo itself is never kept)."""

from __future__ import annotations

from collections import OrderedDict

# File ids are ~80 bytes: this many take about 1 MB. The oldest are forgotten first; one that
# is forgotten costs one more download and search, then is remembered again.
MAX_FACELESS_PHOTOS = 10_000


class FacelessPhotos:
    """A bounded set of photo file ids in which no face was found."""

    def __init__(self, limit: int = MAX_FACELESS_PHOTOS) -> None:
        self._limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, file_id: object) -> bool:
        return file_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, file_id: str) -> None:
        self._ids[file_id] = None
        self._ids.move_to_end(file_id)
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)

    def discard(self, file_id: str) -> None:
        self._ids.pop(file_id, None)
