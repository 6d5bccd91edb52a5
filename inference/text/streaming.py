"""Tokens to text while `generate` runs: every row of a batch streams to its own listener.

transformers hands a streamer the whole batch's new tokens once per decoding step, on the
worker thread; this one keeps each row apart, stops a row at its first stop token or its own
budget, and passes on the row's text so far, cleaned for display, at most every `interval_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from transformers.generation.streamers import BaseStreamer

from inference.cleaning import clean_generation

# Called on the worker thread with a row's displayable text so far (growing); returns False
# when it did not show the text (e.g. it would fail the output checks), None or True when it did.
TextListener = Callable[[str], bool | None]
DRAFT_INTERVAL_S = 0.1  # drafts faster than this are not read, only sent
_INCOMPLETE = "\ufffd"  # what a byte-level decode shows for half of a multi-byte character


class RowStreamer(BaseStreamer):
    """A batch-aware streamer: row i's text goes to `listeners[i]` (None: not streamed)."""

    def __init__(
        self,
        decode: Callable[[list[int]], str],
        listeners: Sequence[TextListener | None],
        budgets: Sequence[int],
        stop_ids: set[int],
        interval_s: float = DRAFT_INTERVAL_S,
    ) -> None:
        self._decode = decode
        self._listeners = list(listeners)
        self._budgets = list(budgets)
        self._stop_ids = stop_ids
        self._interval_s = interval_s
        self._prompt_seen = False
        self._tokens: list[list[int]] = [[] for _ in self._listeners]
        self._open = [listener is not None for listener in self._listeners]
        self._shown = ["" for _ in self._listeners]
        self._fresh = [False for _ in self._listeners]
        self._last = [0.0 for _ in self._listeners]

    def put(self, value: Any) -> None:
        """One decoding step: a token per row (the first call is the prompt, skipped)."""
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        steps = value.reshape(len(self._listeners), -1).tolist()
        for row, tokens in enumerate(steps):
            for token in tokens:
                if not self._open[row]:
                    break
                if token in self._stop_ids:
                    self._open[row] = False
                    break
                self._tokens[row].append(token)
                self._fresh[row] = True
                if len(self._tokens[row]) >= self._budgets[row]:
                    self._open[row] = False
        self._flush(final=False)

    def end(self) -> None:
        self._flush(final=True)

    def _flush(self, *, final: bool) -> None:
        now = time.monotonic()
        for row, listener in enumerate(self._listeners):
            if listener is None or not self._fresh[row]:
                continue
            # The first words go out at once; after that at most one draft per interval.
            if not final and self._shown[row] and now - self._last[row] < self._interval_s:
                continue
            text = clean_generation(self._decode(self._tokens[row]).rstrip(_INCOMPLETE))
            self._fresh[row] = False
            # Only text the listener showed starts the interval: the first words it can use
            # go out at once, not up to an interval after text it declined.
            if text and text != self._shown[row] and listener(text) is not False:
                self._shown[row], self._last[row] = text, now
