"""Model text to user text: template leftovers, invisible characters and rambling removed."""

from __future__ import annotations

import re
from collections import Counter

from inference.writing import CJK_CHARACTER, has_cjk, strip_invisible

# Anything after one of these is the model starting another turn.
_TURN_ENDS = re.compile(
    r"<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<\|end\|>|<end_of_turn>|</s>|<\|im_start\|>"
    r"|\[INST\]|<\|user\|>|<\|start_header_id\|>"
)
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_SPECIAL_TOKENS = re.compile(
    r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|<(?:bos|eos|pad|unk)>"
    r"|\[(?:PAD|CLS|SEP|UNK|MASK|DEC)\]|</?think>"
)
_LEADING_SPECIALS = re.compile(rf"^(?:\s*(?:{_SPECIAL_TOKENS.pattern}))+")
_ROLE_PREFIX = re.compile(
    r"^\s*(?:<\|im_start\|>)?\s*(?:assistant|system|user|model|bot|ai|character)\s*(?:[:：]|\n)\s*",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SENTENCE_END = re.compile(r"[.!?。！？…](?:[\"'”’」』)）]*)(?=\s|$)|[。！？…][\"'”’」』)）]*")
_QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "«": "»"}
_PROSE_PUNCTUATION = set(".,!?;:'\"-…，。！？、；：“”‘’（）()")
ELLIPSIS = "…"


def clean_generation(text: str, max_chars: int = 600) -> str:
    """What a user should see of a generation: one turn, no markup, at most `max_chars` long."""
    text = _THINK_BLOCK.sub("", text)
    if "</think>" in text:  # the template opened the think block inside the prompt
        text = text.rsplit("</think>", 1)[1]
    text = _ROLE_PREFIX.sub("", _LEADING_SPECIALS.sub("", text), count=1)
    text = _TURN_ENDS.split(text, maxsplit=1)[0]
    text = _SPECIAL_TOKENS.sub("", text)
    text = _ROLE_PREFIX.sub("", text, count=1)
    text = strip_invisible(text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    text = strip_quotes(text)
    return cut_text(text, max_chars)


def strip_quotes(text: str) -> str:
    """Drop one pair of quotes around the whole text, the way models like to wrap a line."""
    if len(text) >= 2 and text[0] in _QUOTE_PAIRS:
        closing = _QUOTE_PAIRS[text[0]]
        inner = text[1:-1]
        if text[-1] == closing and closing not in inner and text[0] not in inner:
            return inner.strip()
    return text


def cut_text(text: str, max_chars: int) -> str:
    """Shorten to `max_chars`: at a sentence end if one is late enough, else a word, else a char."""
    if len(text) <= max_chars:
        return text
    window = text[:max_chars]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= max_chars // 2:
        return window[: ends[-1]].strip()
    window = text[: max_chars - 1]
    space = window.rfind(" ")
    if space >= max_chars // 2 and not has_cjk(window[space:]):
        return window[:space].rstrip(" ,;:，、；：") + ELLIPSIS
    return window.rstrip() + ELLIPSIS


def looks_garbled(text: str) -> bool:
    """True for text not worth showing: empty, letterless, mostly symbols or one repeated thing."""
    chars = [ch for ch in text if not ch.isspace()]
    if not chars:
        return True
    letters = [ch for ch in chars if ch.isalpha()]
    cjk = sum(1 for ch in letters if CJK_CHARACTER.match(ch))
    if not letters or (len(letters) < 2 and cjk == 0):
        return True
    wordy = sum(1 for ch in chars if ch.isalnum() or ch in _PROSE_PUNCTUATION)
    if wordy / len(chars) < 0.5:
        return True
    if len(chars) >= 8 and Counter(chars).most_common(1)[0][1] / len(chars) > 0.5:
        return True
    words = text.lower().split()
    return len(words) >= 6 and len(set(words)) / len(words) < 0.3
