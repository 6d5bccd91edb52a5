"""The dialogue stage on a tiny real Qwen2 checkpoint: batching must not change any row."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch
from tiny_checkpoints import CONTEXT_TOKENS, TinyModels

from inference.cleaning import looks_garbled
from inference.text.captioner import Captioner
from inference.text.dialogue import DialogueModel
from inference.text.lines import LineRequest, write_batch
from inference.text.prompts import fallback_line, first_line_request, reply_request
from inference.text.streaming import TextListener
from inference.types import ChatRequest, Persona, Retry, Turn

CPU = torch.device("cpu")
PERSONA = Persona("Anna", "warm", "short", "a woman smiling in a park", "en")


@pytest.fixture(scope="module")
def dialogue(tiny_models: TinyModels) -> DialogueModel:
    return DialogueModel.load(str(tiny_models.dialogue), CPU, torch.float32)


def requests() -> list[ChatRequest]:
    """Different prompt lengths and different budgets, English and Chinese."""
    return [
        ChatRequest([{"role": "user", "content": "hi"}], max_new_tokens=30),
        ChatRequest(
            [
                {"role": "system", "content": "You are Anna, a person in a photo. Be brief."},
                {"role": "user", "content": "What is the weather like in the park today?"},
            ],
            max_new_tokens=7,
        ),
        ChatRequest([{"role": "user", "content": "你好，今天你想聊什么？"}], max_new_tokens=18),
    ]


def test_tokenizer_round_trips_english_and_chinese(dialogue: DialogueModel) -> None:
    text = "Hello! 你好，很高兴认识你。"
    ids = dialogue.tokenizer.encode(text, add_special_tokens=False)
    assert dialogue.tokenizer.decode(ids) == text
    assert dialogue.tokenizer.eos_token == "<|im_end|>"
    assert dialogue.tokenizer.convert_tokens_to_ids("<|im_end|>") in dialogue.stop_ids


def test_context_window_and_token_counting(dialogue: DialogueModel) -> None:
    assert dialogue.context_window == CONTEXT_TOKENS  # the tiny config's max_position_embeddings
    short = dialogue.count_tokens([{"role": "user", "content": "hi"}])
    longer = dialogue.count_tokens(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]
    )
    assert 0 < short < longer


def test_batched_rows_equal_unbatched_greedy_runs(dialogue: DialogueModel) -> None:
    batch = requests()
    batched = dialogue.generate_tokens(batch)
    alone = [dialogue.generate_tokens([request])[0] for request in batch]
    assert batched == alone
    for tokens, request in zip(batched, batch, strict=True):
        assert len(tokens) <= request.max_new_tokens
    assert len({tuple(tokens) for tokens in batched}) == 3  # the rows really differ
    assert len(batched[0]) > len(batched[1])  # each row kept its own budget
    assert dialogue.generate(batch) == [dialogue.generate([request])[0] for request in batch]


def test_rows_stop_at_their_first_stop_token(dialogue: DialogueModel) -> None:
    batch = requests()
    free = dialogue.generate_tokens(batch)
    # Declare the third token of row 0 a stop token (one not seen earlier in that row).
    position = next(i for i in range(2, len(free[0])) if free[0][i] not in free[0][:i])
    stop = free[0][position]
    original = set(dialogue.stop_ids)
    dialogue.stop_ids = original | {stop}
    try:
        stopped = dialogue.generate_tokens(batch)
    finally:
        dialogue.stop_ids = original
    assert stopped[0] == free[0][:position]
    for row, tokens in zip(stopped, free, strict=True):
        expected = tokens[: tokens.index(stop)] if stop in tokens else tokens
        assert row == expected


def test_generations_are_cleaned_and_garbled_lines_fall_back(dialogue: DialogueModel) -> None:
    history = [Turn("character", "Hi, I'm Anna!"), Turn("user", "hello", speaker="Bob")]
    request = reply_request(
        PERSONA, history, "how are you?", "Bob", dialogue.count_tokens, dialogue.context_window, 40
    )
    texts = dialogue.generate([first_line_request(PERSONA), request])
    assert len(texts) == 2
    for text in texts:
        assert "<|im_end|>" not in text and "<|im_start|>" not in text
        assert all(ch in "\n" or ch.isprintable() for ch in text)

    # The product's own substitute: a line that comes out garbled is asked again once, and
    # garbled again becomes the stock line of its kind; other rows keep the model's words.
    garbling = first_line_request(PERSONA)

    def first_line_garbled(
        batch: list[ChatRequest], on_text: Sequence[TextListener | None] | None = None
    ) -> list[str]:
        answers = dialogue.generate(batch, on_text)
        return [
            "### [PAD] ###" if r.messages == garbling.messages else a
            for r, a in zip(batch, answers, strict=True)
        ]

    lines = write_batch(
        first_line_garbled,
        [
            LineRequest(garbling, PERSONA, "first"),
            LineRequest(garbling, PERSONA, "first", retried=True),
            LineRequest(request, PERSONA, "reply"),
        ],
    )
    assert isinstance(lines[0], Retry)
    assert lines[1] == fallback_line(PERSONA, "first")
    if looks_garbled(texts[1]):
        assert isinstance(lines[2], Retry)
    else:
        assert lines[2] == texts[1]


def test_templates_without_a_system_role_still_work(tiny_models: TinyModels) -> None:
    dialogue = DialogueModel.load(str(tiny_models.dialogue), CPU, torch.float32)
    dialogue.tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('System role not supported') }}{% endif %}"
        "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "<|im_start|>assistant\n"
    )
    messages = [{"role": "system", "content": "Be Anna."}, {"role": "user", "content": "hi"}]
    assert dialogue.count_tokens(messages) > dialogue.count_tokens(messages[1:])
    assert len(dialogue.generate([ChatRequest(messages, max_new_tokens=3)])) == 1


def test_a_tokenizer_without_chat_template_is_refused(dialogue: DialogueModel) -> None:
    template = dialogue.tokenizer.chat_template
    dialogue.tokenizer.chat_template = None
    try:
        with pytest.raises(ValueError, match="chat_template"):
            DialogueModel(dialogue.tokenizer, dialogue.model, CPU)
    finally:
        dialogue.tokenizer.chat_template = template


def test_a_plain_captioner_cannot_be_the_dialogue_model(tiny_models: TinyModels) -> None:
    captioner = Captioner.load(str(tiny_models.caption), CPU, torch.float32)
    with pytest.raises(ValueError, match="cannot chat"):
        DialogueModel.from_captioner(captioner)
