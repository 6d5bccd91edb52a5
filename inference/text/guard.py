"""The last check on a character's words: they must not recite the instructions it was given."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from inference.writing import has_cjk

# A quoted stretch this long is recitation, not coincidence; CJK packs more per character.
MIN_LEAK_CHARS = 40
MIN_LEAK_CJK_CHARS = 16
_NOT_WORD = re.compile(r"[\W_]+")


def _normalise(text: str) -> str:
    """Lower case, every run of spaces and punctuation one space: quoting survives reflowing."""
    return _NOT_WORD.sub(" ", text.lower()).strip()


def quotes_instructions(answer: str, system_prompt: str, allowed: Iterable[str] = ()) -> bool:
    """True when `answer` repeats a long stretch of `system_prompt`.

    `allowed` (the persona's name, description, traits, style) is cut out of the prompt
    first: a character may talk about itself, it must not recite the rules around that.
    """
    for value in allowed:
        if value.strip():
            system_prompt = system_prompt.replace(value, "\n")
    said = _normalise(answer)
    if not said:
        return False
    for fragment in system_prompt.split("\n"):
        secret = _normalise(fragment)
        if not secret:
            continue
        matcher = SequenceMatcher(None, said, secret, autojunk=False)
        match = matcher.find_longest_match(0, len(said), 0, len(secret))
        quoted = said[match.a : match.a + match.size]
        limit = MIN_LEAK_CJK_CHARS if has_cjk(quoted) else MIN_LEAK_CHARS
        if match.size >= limit:
            return True
    return False
