"""Fitting our text into Telegram's limits, and cleaning what users send."""

from __future__ import annotations

import re

from inference.writing import strip_invisible

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, preferring paragraph, line, then
    sentence and word boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind(sep) for sep in ("\n\n", "\n", "。", ". ", "！", "? ", " "))
        if cut < limit // 2:
            cut = limit
        else:
            cut += 1
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def fit_caption(text: str, limit: int = CAPTION_LIMIT) -> str:
    """A caption no longer than `limit`, cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clean_user_text(text: str | None) -> str:
    """What the user really wrote: invisible characters and control characters removed."""
    return strip_invisible(text or "").strip()


def without_addressing(text: str | None, bot_username: str) -> str:
    """What the user says to the character: their text without '@bot', '/talk' or '/talk@bot'
    (the words that only pick the bot), line breaks kept."""
    bot = re.escape(bot_username)
    addressing = re.compile(rf"(?<!\S)(?:/talk(?:@{bot})?|@{bot})(?!\S)[^\S\n]*", re.IGNORECASE)
    return clean_user_text(addressing.sub("", clean_user_text(text)))
