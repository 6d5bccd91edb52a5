"""Text → the phonemes Kokoro reads. Chinese goes through misaki's Chinese G2P (jieba and
pypinyin, their data inside the wheels); words in Latin letters through its English G2P
(spaCy's en_core_web_sm tags the words, a lexicon says them, espeak-ng the unknown ones).
A mixed line is split by script, each run phonemised by its own G2P, and joined again."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable

from inference.errors import ModelUnavailable
from inference.writing import is_han

log = logging.getLogger(__name__)

G2P = Callable[[str], str]  # text → phonemes

# The English G2P tags words with this spaCy pipeline; it is not on PyPI, so pip cannot
# resolve it from a requirement: its wheel is installed from spaCy's releases.
ENGLISH_TAGGER = "en_core_web_sm"
ENGLISH_TAGGER_WHEEL = (
    "https://github.com/explosion/spacy-models/releases/download/"
    "en_core_web_sm-3.8.0/en_core_web_sm-3.8.0-py3-none-any.whl"
)
# A run of words in Latin letters inside a Chinese line ("我昨天去了 Central Park 散步"):
# it starts with a letter; digits, apostrophes and hyphens may follow, and more such words.
_LATIN_RUN = re.compile(r"[A-Za-z][\w'’-]*(?:[ \t]+[A-Za-z0-9][\w'’-]*)*", re.ASCII)
# Emoji and other symbols have no sound; the English G2P would spell out their names.
_SILENT_CATEGORIES = ("So", "Sk", "Cs", "Co", "Cn")


class Phonemizer:
    """Phonemes for one model call: Chinese runs by `chinese`, Latin-letter runs by the
    American or British English G2P (the voice's accent), in the order they were written."""

    def __init__(self, chinese: G2P, american: G2P, british: G2P) -> None:
        self._chinese = chinese
        self._american = american
        self._british = british

    def __call__(self, text: str, *, british: bool = False) -> str:
        text = "".join(ch for ch in text if _sayable(ch)).strip()
        english = self._british if british else self._american
        if not any(is_han(ch) for ch in text):
            return english(text).strip() if text else ""
        parts, start = [], 0
        for run in _LATIN_RUN.finditer(text):
            parts += [self._chinese(text[start : run.start()]), english(run.group())]
            start = run.end()
        parts.append(self._chinese(text[start:]))
        return " ".join(part.strip() for part in parts if part.strip())


def _sayable(ch: str) -> bool:
    """Chinese, Latin letters, digits, punctuation and spaces; not emoji, nor the letters of
    scripts neither G2P reads (kana, Hangul, Cyrillic...: espeak would say "Japanese letter")."""
    category = unicodedata.category(ch)
    if category in _SILENT_CATEGORIES:
        return False
    return not category.startswith("L") or is_han(ch) or "LATIN" in unicodedata.name(ch, "")


def load_phonemizer(chinese_version: str | None) -> Phonemizer:
    """Misaki's G2Ps for Chinese (`chinese_version` None: Kokoro v1.0's pinyin path, '1.1':
    the v1.1-zh model's) and American and British English; `ModelUnavailable`, in one line
    naming what to install, when spaCy's English tagger is missing."""
    american, british = english_g2p(british=False), english_g2p(british=True)
    return Phonemizer(chinese_g2p(chinese_version, american), american, british)


def english_g2p(*, british: bool) -> G2P:
    """Misaki's English G2P, with espeak-ng (from the espeakng-loader wheel) for words its
    lexicon lacks; never the download misaki itself would try for a missing tagger."""
    import spacy

    if not spacy.util.is_package(ENGLISH_TAGGER):
        raise ModelUnavailable(
            f"The Kokoro voice (TTS_MODEL) reads English with spaCy's {ENGLISH_TAGGER}, which "
            f"is not installed and not on PyPI: pip install {ENGLISH_TAGGER_WHEEL} (or set "
            f"TTS_MODEL=suno/bark-small, or TTS_API_BASE to a speech server)."
        )
    from misaki import en, espeak

    try:
        fallback = espeak.EspeakFallback(british=british)
    except Exception as exc:  # espeak-ng missing: words outside the lexicon go unsaid
        log.warning("espeak-ng is not usable (%s): unknown English words are skipped", exc)
        fallback = None
    g2p = en.G2P(trf=False, british=british, fallback=fallback, unk="")

    def phonemes(text: str) -> str:
        return str(g2p(text)[0] or "")

    return phonemes


def chinese_g2p(version: str | None, english: G2P) -> G2P:
    """Misaki's Chinese G2P (numbers read as Chinese numbers, punctuation kept as pauses)."""
    import jieba
    from misaki import zh

    jieba.setLogLevel(logging.WARNING)  # it announces building its dictionary on stderr
    g2p = zh.ZHG2P(version=version, en_callable=english if version else None)

    def phonemes(text: str) -> str:
        return str(g2p(text)[0] or "") if text.strip() else ""

    return phonemes
