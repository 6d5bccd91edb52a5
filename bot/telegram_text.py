"""Fitting our text into Telegram's limits, and cleaning what users send."""

from __future__ import annotations

import re
import unicodedata

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

# Zero-width and bidi control characters carry no words; a text of only these is empty.
# The zero-width joiner is kept inside text: it glues emoji sequences such as 👨‍👩‍👧.
_INVISIBLE = re.compile(
    "[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]"
)
_JOINER = "\u200d"


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
    if not text:
        return ""
    text = _INVISIBLE.sub("", text)
    if not text.replace(_JOINER, "").strip():
        return ""
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return text.strip()
