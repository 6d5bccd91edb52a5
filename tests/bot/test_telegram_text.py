"""Fitting text into Telegram's limits and cleaning what users send (pure functions)."""

from bot.telegram_text import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    clean_user_text,
    fit_caption,
    split_message,
)


def test_short_text_is_one_piece() -> None:
    assert split_message("Hello!") == ["Hello!"]
    assert split_message("   ") == []


def test_long_text_splits_within_the_limit_without_losing_words() -> None:
    text = " ".join(f"word{i}." for i in range(2000))  # ~15k characters
    pieces = split_message(text)
    assert len(pieces) > 3
    assert all(0 < len(p) <= MESSAGE_LIMIT for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_split_prefers_paragraphs_then_sentences() -> None:
    first = "a" * 3000
    text = f"{first}\n\n{'b' * 3000}"
    assert split_message(text) == [first, "b" * 3000]
    chinese = "我今天很开心。" * 1000  # no spaces at all
    pieces = split_message(chinese)
    assert all(p.endswith("。") for p in pieces) and "".join(pieces) == chinese


def test_text_without_any_break_is_cut_hard() -> None:
    pieces = split_message("x" * 10000)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]


def test_caption_is_cut_with_an_ellipsis() -> None:
    assert fit_caption("short") == "short"
    long = fit_caption("y" * 5000)
    assert len(long) == CAPTION_LIMIT and long.endswith("…")


def test_clean_user_text_drops_invisible_and_control_characters() -> None:
    assert clean_user_text("\u200b\u200c\u200d\ufeff") == ""
    assert clean_user_text("  \n\t ") == ""
    assert clean_user_text(None) == ""
    assert clean_user_text("hi\x00 there\x07") == "hi there"
    assert clean_user_text("שלום עולם") == "שלום עולם"  # RTL text is kept
    assert clean_user_text("👍🏽") == "👍🏽"
    assert clean_user_text("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # joiners glue the family
    assert clean_user_text("'); DROP TABLE messages; --") == "'); DROP TABLE messages; --"
