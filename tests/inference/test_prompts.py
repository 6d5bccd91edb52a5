"""Prompts and the character card, without any model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inference.text.card import _NAMES, fallback_name, parse_persona, persona_request
from inference.text.prompts import (
    character_system_prompt,
    fallback_line,
    first_line_request,
    merge_roles,
    reply_request,
    trim_history,
)
from inference.types import ChatRequest, Persona, Turn

DESCRIPTION = "a young woman with curly hair smiling in a park, wearing a red coat"
ANNA = Persona("Anna", "warm, curious", "short and friendly", DESCRIPTION, "en")
XIAOYU = Persona("小雨", "热情、好奇", "简短友好", DESCRIPTION, "zh")


def count_chars(messages: list[dict[str, str]]) -> int:
    """A stand-in tokenizer: one token per character plus four per message."""
    return sum(len(m["content"]) + 4 for m in messages)


def test_persona_request_asks_for_the_parseable_lines() -> None:
    en = persona_request(DESCRIPTION, "en")
    zh = persona_request(DESCRIPTION, "zh")
    assert DESCRIPTION in en.messages[-1]["content"]
    for label in ("Name:", "Personality:", "Speaking style:"):
        assert label in en.messages[-1]["content"]
    for label in ("名字：", "性格：", "说话风格："):
        assert label in zh.messages[-1]["content"]
    assert en.messages[0]["role"] == "system"


@pytest.mark.parametrize(
    ("text", "name", "traits", "style"),
    [
        (
            "Name: Clara\nPersonality: shy, kind, witty\nSpeaking style: soft and slow",
            "Clara",
            "shy, kind, witty",
            "soft and slow",
        ),
        (
            "Sure! Here is the card:\n\n**Name:** Leo Martin\n- **Personality**: bold, loud\n"
            "- **Speaking style**: jokes a lot\n\nHope you like it!",
            "Leo Martin",
            "bold, loud",
            "jokes a lot",
        ),
        (
            "Name: Maya Personality: calm, patient Speaking style: gentle",
            "Maya",
            "calm, patient",
            "gentle",
        ),
        ("名字：小雨\n性格：热情、好奇\n说话风格：简短友好", "小雨", "热情、好奇", "简短友好"),
        ("<|im_start|>assistant\n姓名: 林峰\n个性：沉稳<|im_end|>garbage", "林峰", "沉稳", None),
    ],
)
def test_character_cards_are_parsed(text: str, name: str, traits: str, style: str | None) -> None:
    persona = parse_persona(text, DESCRIPTION, "en")
    assert persona.name == name
    assert persona.traits == traits
    if style is not None:
        assert persona.speaking_style == style
    assert persona.description == DESCRIPTION


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01 ��� <|im_end|>",
        "dgr�� Person� wit小明�格好奇Q��位穿名字��____",
        "Name: <a plausible first name>\nPersonality: ???\nSpeaking style: ...",
        "Name: this is clearly a whole sentence and not a name at all",
        "Name: 12345",
    ],
)
def test_garbage_cards_fall_back_to_stable_plausible_values(text: str) -> None:
    for language in ("en", "zh"):
        persona = parse_persona(text, DESCRIPTION, language)
        assert persona.name == fallback_name(DESCRIPTION, language)
        assert persona.name in _NAMES[(language, "female")]  # "woman" in the description
        assert persona.traits and persona.speaking_style
        assert persona.language == language
        assert parse_persona(text, DESCRIPTION, language) == persona


def test_fallback_names_follow_the_description() -> None:
    assert fallback_name("an old man with a beard", "en") in _NAMES[("en", "male")]
    assert fallback_name("一个戴眼镜的男人", "zh") in _NAMES[("zh", "male")]
    assert fallback_name("a person in a photo", "en") in _NAMES[("en", "neutral")]
    names = {fallback_name(f"a woman, photo {i}", "en") for i in range(40)}
    assert len(names) > 3  # varies between photos


def test_system_prompt_holds_the_rules() -> None:
    prompt = character_system_prompt(ANNA, "en")
    assert "You are Anna" in prompt and DESCRIPTION in prompt
    assert "first person" in prompt
    assert "Never reveal" in prompt and "system prompt" in prompt
    assert "real, identifiable person" in prompt and "AI" in prompt
    zh = character_system_prompt(XIAOYU, "zh")
    assert "你是小雨" in zh and "用中文回答" in zh and "系统提示" in zh


def test_first_line_request_speaks_the_persona_language() -> None:
    en, zh = first_line_request(ANNA), first_line_request(XIAOYU)
    assert en.messages[0]["role"] == "system" and "Answer in English" in en.messages[0]["content"]
    assert "用中文回答" in zh.messages[0]["content"]
    assert en.messages[-1]["role"] == "user"


def request_for(
    persona: Persona, history: list[Turn], text: str, speaker: str | None = None
) -> ChatRequest:
    return reply_request(persona, history, text, speaker, count_chars, 4096, 100)


def test_reply_is_asked_in_the_language_the_pipeline_chose() -> None:
    assert (
        "用中文回答" in request_for(replace(ANNA, language="zh"), [], "hi").messages[0]["content"]
    )
    assert (
        "Answer in English"
        in request_for(replace(XIAOYU, language="en"), [], "你好").messages[0]["content"]
    )
    assert "用中文回答" in request_for(XIAOYU, [], "😊").messages[0]["content"]


def test_group_turns_carry_speaker_names() -> None:
    history = [
        Turn("character", "Hi everyone!"),
        Turn("user", "Hello Anna", speaker="Bob"),
        Turn("user", "Hey", speaker="Eve"),
    ]
    request = request_for(ANNA, history, "What's up?", speaker="Bob")
    roles = [m["role"] for m in request.messages]
    assert roles == ["system", "user", "assistant", "user"]  # opener added, users merged
    assert request.messages[-1]["content"] == "Bob: Hello Anna\nEve: Hey\nBob: What's up?"
    assert request.messages[2]["content"] == "Hi everyone!"
    assert request.max_new_tokens == 100


def test_private_turns_have_no_speaker_prefix() -> None:
    request = request_for(ANNA, [Turn("user", "hi"), Turn("character", "hello")], "how are you")
    assert [m["content"] for m in request.messages[1:]] == ["hi", "hello", "how are you"]


def test_trim_history_keeps_the_newest_turns_that_fit() -> None:
    system = [{"role": "system", "content": "s" * 50}]
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i:02d} " + "x" * 20}
        for i in range(30)
    ]
    budget = 400
    kept = trim_history(system, history, "latest", count_chars, budget, opener="(hi)")
    assert kept, "some history fits"
    assert kept[-1] == history[-1]  # the newest turn is kept
    originals = [m for m in kept if m in history]
    start = history.index(originals[0])
    assert originals == history[start:]  # a contiguous newest suffix
    total = count_chars(merge_roles(system + kept + [{"role": "user", "content": "latest"}]))
    assert total <= budget
    # ... and it is the longest such suffix: one more older turn would not fit.
    assert start > 0
    one_more = [history[start - 1], *history[start:]]
    if one_more[0]["role"] == "assistant":
        one_more.insert(0, {"role": "user", "content": "(hi)"})
    latest = [{"role": "user", "content": "latest"}]
    assert count_chars(merge_roles(system + one_more + latest)) > budget


def test_trim_history_drops_everything_when_nothing_fits() -> None:
    history = [{"role": "user", "content": "x" * 100}]
    assert trim_history([], history, "latest", count_chars, 20) == []
    assert trim_history([], history, "latest", count_chars, 10_000) == history


def test_reply_request_fits_the_context_window() -> None:
    history = [
        Turn("user" if i % 2 else "character", f"message number {i} " * 5) for i in range(60)
    ]
    window, new_tokens = 1500, 200
    request = reply_request(ANNA, history, "and now?", None, count_chars, window, new_tokens)
    assert count_chars(request.messages) <= window - new_tokens
    assert request.messages[-1]["content"].endswith("and now?")
    assert "message number 59" in request.messages[-1]["content"]  # merged with the new text
    assert "message number 58" in request.messages[-2]["content"]
    assert not any("message number 0 " in m["content"] for m in request.messages)


def test_a_huge_user_message_is_shortened_to_fit() -> None:
    request = reply_request(ANNA, [], "blah " * 5000, None, count_chars, 3000, 200)
    assert count_chars(request.messages) <= 2800
    assert request.messages[-1]["content"].startswith("blah")


def test_fallback_lines_are_in_character_and_deterministic() -> None:
    first = fallback_line(ANNA, "first")
    assert "Anna" in first and first == fallback_line(ANNA, "first")
    assert "小雨" in fallback_line(XIAOYU, "first")
    replies = {fallback_line(ANNA, "reply", salt=str(i)) for i in range(30)}
    assert len(replies) > 1
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in replies)
    zh = fallback_line(ANNA, "reply", language="zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
