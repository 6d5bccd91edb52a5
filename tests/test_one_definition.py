"""One definition of each idea: CJK, invisible characters, the language, the turn role.

The modules that ask "is this CJK?" or "is this invisible?" must agree, because they once
disagreed (five CJK ranges, two invisible filters) and text fell between them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

import bot.texts
import inference.types
import storage.records
from bot.telegram_text import clean_user_text, without_addressing
from inference.cleaning import clean_generation, cut_text
from inference.face.bubble import wrap_text
from inference.face.fonts import load_font
from inference.language import detect_language
from inference.text.guard import MIN_LEAK_CHARS, MIN_LEAK_CJK_CHARS, quotes_instructions
from inference.writing import has_cjk, strip_invisible

ROOT = Path(__file__).resolve().parents[1]
# A character range or code point of CJK or invisible characters, spelled in source.
RANGE_SPELLING = re.compile(
    r"\\u4e00|\\u3040|\\u3400|\\uac00|\\u200b|\\u202a|\\ufeff|0x4E00|0x3400", re.IGNORECASE
)


def test_only_inference_writing_spells_cjk_or_invisible_ranges() -> None:
    spelled = [
        str(path.relative_to(ROOT))
        for package in ("bot", "inference", "storage")
        for path in (ROOT / package).rglob("*.py")
        if RANGE_SPELLING.search(path.read_text(encoding="utf-8"))
    ]
    assert spelled == ["inference/writing.py"]


@pytest.mark.parametrize(
    "sample",
    [
        "こんにちはみなさんおげんきですかきょうはいいてんきですね",  # kana
        "안녕하세요여러분오늘날씨가정말좋네요반갑습니다",  # Hangul
        "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇𠀈𠀉𠀊𠀋𠀌𠀍𠀎𠀏𠀐𠀑",  # Han, extension B
    ],
)
def test_every_cjk_reader_treats_the_same_characters_as_cjk(sample: str) -> None:
    assert has_cjk(sample)
    # The recitation guard counts them as dense script: a short quoted stretch is a leak.
    quoted = sample[:MIN_LEAK_CJK_CHARS]
    assert len(quoted) < MIN_LEAK_CHARS
    assert quotes_instructions(f"好的，{quoted}。", f"Rules: {sample}")
    # The speech bubble breaks lines between them (no word to keep whole).
    font = load_font(sample, 20)
    lines = wrap_text(sample, font, font.getlength(sample) / 3)
    assert len(lines) >= 3 and "".join(lines) == sample
    # Long model text is cut at a character, not back at an earlier space.
    long = "x" * 22 + " " + sample * 3
    assert cut_text(long, 40) == long[:39] + "…"


def test_chinese_is_han_characters_not_every_cjk_character() -> None:
    assert detect_language("𠀀𠀁 ok") == "zh"  # extension B counts as Chinese
    assert detect_language("你好 hello there") == "en"
    assert detect_language("こんにちは") is None  # kana alone is not Chinese


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u2065", "\u180e", "\ufffd", "\u00ad", "\u202e", "\u200d", "\x07"]
)
def test_user_text_and_model_text_lose_the_same_invisible_characters(invisible: str) -> None:
    written = f"ab{invisible}cd"
    assert strip_invisible(written) == "abcd"
    assert clean_user_text(written) == clean_generation(written) == "abcd"


def test_the_emoji_joiner_survives_both_cleaners() -> None:
    family = "👨\u200d👩\u200d👧"
    assert clean_user_text(family) == clean_generation(family) == family


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("@PhotoTalkBot hello", "hello"),
        ("hello @phototalkbot", "hello"),
        ("/talk Grandpa, is that you?", "Grandpa, is that you?"),
        ("/talk@PhotoTalkBot  hi", "hi"),
        ("@PhotoTalkBot first line\nsecond line", "first line\nsecond line"),
        ("@PhotoTalkBotFan is another bot", "@PhotoTalkBotFan is another bot"),
        ("mail me at a@PhotoTalkBot.example", "mail me at a@PhotoTalkBot.example"),
        ("\u200b@PhotoTalkBot\u200b", ""),
    ],
)
def test_one_stripper_takes_the_bot_out_of_captions_and_texts(written: str, said: str) -> None:
    assert without_addressing(written, "PhotoTalkBot") == said


def test_one_language_type() -> None:
    assert not hasattr(bot.texts, "Lang")
    assert get_args(inference.types.Language) == ("zh", "en")


def test_both_role_vocabularies_say_the_same_two_words() -> None:
    """Storage and inference may not import each other, so each names the roles it keeps or
    takes; bot/rows.py translates. They must stay the same words."""
    assert get_args(storage.records.Role) == get_args(inference.types.Role)
