"""What users see of a generation: one clean turn, never markup or invisible characters."""

from __future__ import annotations

import pytest

from inference.cleaning import clean_generation, cut_text, looks_garbled, strip_quotes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello there!<|im_end|>\n<|im_start|>user\nHi", "Hello there!"),
        ("<|im_start|>assistant\nNice to meet you.<|endoftext|>", "Nice to meet you."),
        ("<s>[INST] ignored? [/INST] Sure thing.</s> more", "ignored? Sure thing."),
        ("assistant: I love this park.", "I love this park."),
        ("Assistant：今天天气很好。", "今天天气很好。"),
        ("<think>The user wants a greeting.</think>Hi, I'm Anna.", "Hi, I'm Anna."),
        ("plan quietly</think>\n\nHey you!", "Hey you!"),
        ("<think>never closed, all of it is thinking", ""),
        ('"Well, hello there."', "Well, hello there."),
        ("「你好，我是小雨。」", "你好，我是小雨。"),
        ('"Hi," she said. "Bye."', '"Hi," she said. "Bye."'),
    ],
)
def test_template_leftovers_are_removed(raw: str, expected: str) -> None:
    assert clean_generation(raw) == expected


def test_invisible_and_control_characters_are_removed() -> None:
    raw = "He\u200bl\u200clo\u2060 \ufeffwor\x00ld\x1b[31m!\u202e\ufffd"
    assert clean_generation(raw) == "Hello world[31m!"


def test_emoji_joiners_survive_but_lone_ones_do_not() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_generation(f"Meet my {family}!") == f"Meet my {family}!"
    assert clean_generation("a\u200db") == "ab"


def test_whitespace_is_collapsed_but_paragraphs_kept() -> None:
    raw = "  Name:\t Anna  \n\n\n\n  Personality:   warm   "
    assert clean_generation(raw) == "Name: Anna\n\nPersonality: warm"


def test_long_text_is_cut_at_a_sentence_end() -> None:
    text = "I like walks. " * 10 + "And then one more very long sentence that goes on and on"
    cut = clean_generation(text, max_chars=100)
    assert len(cut) <= 100
    assert cut.endswith("walks.")


def test_long_text_without_sentences_is_cut_at_a_word() -> None:
    text = " ".join(["word"] * 100)
    cut = cut_text(text, 50)
    assert len(cut) <= 50 and cut.endswith("word…")


def test_long_chinese_is_cut_at_a_sentence_end_or_a_character() -> None:
    sentences = "我今天去了公园。" * 20
    cut = cut_text(sentences, 50)
    assert len(cut) <= 50 and cut.endswith("。")
    run_on = "我" * 200
    cut = cut_text(run_on, 50)
    assert len(cut) == 50 and cut.endswith("…")


def test_short_text_is_untouched_by_cutting() -> None:
    assert cut_text("Short.", 600) == "Short."


def test_quotes_are_stripped_only_as_a_pair() -> None:
    assert strip_quotes("“Hello”") == "Hello"
    assert strip_quotes('"Hello') == '"Hello'
    assert strip_quotes("'tis the season'") == "tis the season"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!???...",
        "a",
        "12345 678",
        "aaaaaaaaaaaaaaaa",
        "@#$%^ & a*()",
        "ha ha ha ha ha ha ha",
    ],
)
def test_garbled_text_is_detected(text: str) -> None:
    assert looks_garbled(text)


@pytest.mark.parametrize(
    "text",
    ["Hi!", "Nice to meet you, I'm Anna.", "你好", "嗯", "今天天气真好！", "OK 👍", "I'm 25."],
)
def test_real_lines_are_not_garbled(text: str) -> None:
    assert not looks_garbled(text)


def test_cleaned_empty_generation_is_garbled() -> None:
    assert looks_garbled(clean_generation("<|im_end|>"))
    assert looks_garbled(clean_generation("\u200b\u200b <|endoftext|>"))
