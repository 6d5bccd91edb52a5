"""Which language a piece of text is written in, as far as the product cares (zh or en)."""

from __future__ import annotations

from inference.types import Language
from inference.writing import is_han


def detect_language(text: str) -> Language | None:
    """'zh' when the text is mostly Chinese, 'en' when it has Latin letters, None otherwise."""
    han = sum(1 for ch in text if is_han(ch))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if han == 0 and latin == 0:
        return None
    # A single Chinese character outweighs a few Latin letters (names, "OK", "AI").
    return "zh" if han * 3 >= latin else "en"


def language_from_code(code: str | None) -> Language:
    """Telegram's `language_code` (e.g. 'zh-hans', 'en-US') → the language we answer in."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def reply_language(
    text: str, persona_language: Language, forced: Language | None = None
) -> Language:
    """The language of an answer: the forced one, else the user's latest text's, else the
    character's own."""
    return forced or detect_language(text) or persona_language
