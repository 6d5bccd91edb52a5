"""Telegram's parse_mode handling: plain text plus entities, or tdlib's parse errors.

Ported from tdlib's MessageEntity.cpp so the bot meets the errors it would meet on Telegram
("can't parse entities: ..."); entity offsets are in UTF-16 code units.
"""

from __future__ import annotations

from .html_mode import parse_html
from .markdown_mode import parse_markdown, parse_markdown_v2
from .models import ApiError
from .text_entities import Entity, utf16_len

__all__ = ["format_text", "utf16_len"]


def format_text(
    text: str, parse_mode: str | None, entities: list[Entity] | None
) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` (or take explicit ``entities``) and trim like Telegram does."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = parse_html(text)
    elif mode == "markdownv2":
        plain, found = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, found = parse_markdown(text)
    elif mode:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    else:
        plain, found = text, list(entities or [])
    stripped = plain.lstrip()
    shift = utf16_len(plain) - utf16_len(stripped)
    plain = stripped.rstrip()
    limit = utf16_len(plain)
    kept: list[Entity] = []
    for entity in found:
        offset = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > offset:
            kept.append({**entity, "offset": offset, "length": end - offset})
    return plain, kept
