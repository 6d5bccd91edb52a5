"""The character card and the first words in one generation: asked, parsed, checked, retried."""

from __future__ import annotations

from collections.abc import Sequence

from inference.text.card import Introduction, introduction_request, parse_introduction
from inference.text.lines import IntroductionRequest, write_batch
from inference.text.prompts import fallback_line
from inference.text.streaming import TextListener
from inference.types import ChatRequest, Retry

DESCRIPTION = "a young woman with curly hair smiling in a park, wearing a red coat"
ANSWER = (
    "Name: Clara\nPersonality: cheerful, curious, a bit dreamy\n"
    "Speaking style: quick and warm, lots of questions\n"
    "First words: Oh, hi! Did you see the ducks by the pond?"
)


class Scripted:
    """Answers from a script, streaming each answer character by character to listeners."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[list[ChatRequest]] = []

    def __call__(
        self, requests: list[ChatRequest], on_text: Sequence[TextListener | None] | None = None
    ) -> list[str]:
        self.calls.append(requests)
        texts = self.answers.pop(0)
        for text, listener in zip(texts, on_text or [], strict=False):
            for end in range(1, len(text) + 1):
                if listener is not None:
                    listener(text[:end])
        return texts


def test_the_introduction_asks_for_the_card_and_the_first_words() -> None:
    en = introduction_request(DESCRIPTION, "en").messages[-1]["content"]
    zh = introduction_request(DESCRIPTION, "zh").messages[-1]["content"]
    assert DESCRIPTION in en and DESCRIPTION in zh
    for label in ("Name:", "Personality:", "Speaking style:", "First words:"):
        assert label in en
    for label in ("名字：", "性格：", "说话风格：", "第一句话："):
        assert label in zh


def test_parse_introduction_reads_the_card_and_the_first_words() -> None:
    intro = parse_introduction(ANSWER, DESCRIPTION, "en")
    assert intro.persona.name == "Clara" and "curious" in intro.persona.traits
    assert intro.persona.speaking_style.startswith("quick and warm")
    assert intro.first_line == "Oh, hi! Did you see the ducks by the pond?"
    zh = parse_introduction(
        "名字：小雨\n性格：开朗\n说话风格：轻快\n第一句话：嗨！你也来公园散步吗？",
        DESCRIPTION,
        "zh",
    )
    assert (zh.persona.name, zh.first_line) == ("小雨", "嗨！你也来公园散步吗？")


def test_an_answer_without_first_words_keeps_its_card_and_a_garbled_one_gets_defaults() -> None:
    card_only = parse_introduction(ANSWER.rsplit("\n", 1)[0], DESCRIPTION, "en")
    assert card_only.persona.name == "Clara" and card_only.first_line == ""
    garbled = parse_introduction("#### %%%% ####", DESCRIPTION, "en")
    assert garbled.persona.name and garbled.persona.traits and garbled.first_line == ""


def job(**kwargs: object) -> IntroductionRequest:
    request = introduction_request(DESCRIPTION, "en")
    return IntroductionRequest(request, DESCRIPTION, "en", **kwargs)  # type: ignore[arg-type]


def test_one_generation_gives_the_card_and_the_first_line_and_drafts_only_the_line() -> None:
    drafts: list[str] = []
    generate = Scripted([ANSWER])
    [intro] = write_batch(generate, [job(on_draft=drafts.append)])
    assert isinstance(intro, Introduction)
    assert intro.persona.name == "Clara"
    assert intro.first_line == "Oh, hi! Did you see the ducks by the pond?"
    assert len(generate.calls) == 1
    assert drafts and drafts[-1] == intro.first_line
    assert all(intro.first_line.startswith(draft) for draft in drafts)  # never the card


def test_missing_first_words_are_asked_for_alone_then_checked() -> None:
    generate = Scripted([ANSWER.rsplit("\n", 1)[0]], ["Hello there! Lovely day, isn't it?"])
    [retry] = write_batch(generate, [job()])
    assert isinstance(retry, Retry)
    again = retry.payload
    assert isinstance(again, IntroductionRequest) and again.persona is not None
    assert again.persona.name == "Clara"
    assert "Clara" in again.request.messages[0]["content"]  # the character's own system prompt
    [intro] = write_batch(generate, [again])
    assert isinstance(intro, Introduction)
    assert (intro.persona.name, intro.first_line) == ("Clara", "Hello there! Lovely day, isn't it?")


def test_first_words_garbled_twice_become_the_stock_first_line() -> None:
    generate = Scripted(["#### ####"], ["%%%% ####"])
    [retry] = write_batch(generate, [job()])
    assert isinstance(retry, Retry)
    [intro] = write_batch(generate, [retry.payload])
    assert isinstance(intro, Introduction)
    assert intro.first_line == fallback_line(intro.persona, "first")
