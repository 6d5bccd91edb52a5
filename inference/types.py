"""Plain data that crosses the package boundary (no torch, no Telegram, no ORM)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Language = Literal["zh", "en"]
# The apparent gender a description suggests (the fallback name and the voice follow it).
Gender = Literal["female", "male"]
# The same two words as storage.records.Role: storage and inference may not import each
# other, so each names what it takes; bot/rows.py translates, and
# tests/test_one_definition.py keeps the two equal.
Role = Literal["user", "character"]

# Called on the event loop with the reply written so far, while it is being generated.
DraftCallback = Callable[[str], None]


@dataclass(frozen=True)
class Persona:
    """A character card: who the pictured person is and how they talk."""

    name: str
    traits: str
    speaking_style: str
    description: str
    language: Language = "en"


@dataclass(frozen=True)
class Turn:
    """One line of a conversation; `speaker` is the display name of a group member."""

    role: Role
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """One chat-template generation: the messages and how many new tokens it may use."""

    messages: list[dict[str, str]]
    max_new_tokens: int = 120


@dataclass(frozen=True)
class TalkingPicture:
    """The drawn picture (JPEG) or, when the image model's safety checker flagged it, nothing."""

    jpeg: bytes
    flagged: bool = False


@dataclass(frozen=True, eq=False)
class Speech:
    """A spoken line: OGG/Opus bytes to send, and the waveform the talking video follows."""

    ogg_opus: bytes
    samples: np.ndarray  # float32, mono, in [-1, 1]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Retry:
    """A stage's answer for one row: run `payload` once more; the rest of the batch is
    answered at once, and the retry goes to the front of the queue."""

    payload: Any
