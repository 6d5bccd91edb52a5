"""How text is written: the one definition of CJK characters and of invisible characters.

Language detection, line wrapping, font choice, cutting and the recitation guard all ask
"is this CJK?"; user text and model text both lose the same invisible characters.
"""

from __future__ import annotations

import re
import unicodedata

# Chinese characters (unified ideographs, extensions A and B, compatibility ideographs):
# what makes a text Chinese.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df"
# Everything set in square cells like Chinese: Han plus radicals, CJK punctuation, kana,
# Hangul and full-width forms. Lines break between any two of them, they need a CJK font,
# and each carries about a word.
CJK = HAN + "\u2e80-\u2fff\u3000-\u30ff\uac00-\ud7af\uff00-\uffef"
CJK_CHARACTER = re.compile(f"[{CJK}]")
_HAN_CHARACTER = re.compile(f"[{HAN}]")

# Zero-width, bidi-control and soft-hyphen characters carry no words (a text of only these is
# empty), and U+FFFD is what broken decoding leaves behind.
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffd]"
)
# The zero-width joiner glues emoji sequences such as 👨‍👩‍👧; anywhere else it is invisible.
_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_LONE_JOINER = re.compile(f"(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])")
_DROPPED_CATEGORIES = ("Cc", "Cs", "Co")  # control, surrogate, private use


def has_cjk(text: str) -> bool:
    """True when any character of `text` is CJK."""
    return CJK_CHARACTER.search(text) is not None


def is_han(character: str) -> bool:
    """True for a Chinese character (not kana, Hangul or punctuation)."""
    return _HAN_CHARACTER.fullmatch(character) is not None


def strip_invisible(text: str) -> str:
    """`text` without invisible and control characters (newlines and tabs stay)."""
    text = _LONE_JOINER.sub("", _INVISIBLE.sub("", text))
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
