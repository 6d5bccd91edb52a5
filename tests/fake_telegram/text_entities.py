"""Shared pieces of Telegram's parse modes: parsed text with entities in UTF-16 offsets."""

from __future__ import annotations

from typing import Any

from .models import ApiError

Entity = dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_error(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


class ParsedText:
    """Parsed text being built, with its UTF-16 length kept up to date."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.utf16 = 0
        self.entities: list[Entity] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.utf16 += utf16_len(text)

    def entity(self, type_: str, start: int, **extra: Any) -> None:
        if self.utf16 > start:
            self.entities.append({"type": type_, "offset": start, "length": self.utf16 - start})
            self.entities[-1].update({k: v for k, v in extra.items() if v})

    def result(self) -> tuple[str, list[Entity]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
