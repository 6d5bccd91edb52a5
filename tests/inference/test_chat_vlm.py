"""One chat VLM for both stages, on a tiny real Idefics3 (SmolVLM) checkpoint."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from PIL import Image
from tiny_checkpoints import CONTEXT_TOKENS

from inference.actor import Actor
from inference.cleaning import clean_generation
from inference.config import InferenceConfig
from inference.serving.loading import Models, load_models
from inference.text import captioner as captioner_module
from inference.text.captioner import FALLBACK_DESCRIPTION, PERSONA_QUESTION, Captioner
from inference.text.dialogue import DialogueModel
from inference.text.prompts import fallback_line, first_line_request
from inference.types import ChatRequest, Persona

CPU = torch.device("cpu")
PERSONA = Persona("Anna", "warm", "short", "a woman smiling in a park", "en")


@pytest.fixture(scope="module")
def config(tiny_chat_vlm: Path) -> InferenceConfig:
    folder = str(tiny_chat_vlm)
    return InferenceConfig(
        caption_model=folder, dialogue_model=folder, image_model="", device="cpu"
    )


@pytest.fixture(scope="module")
def models(config: InferenceConfig) -> Models:
    return load_models(config)


def photos() -> list[Image.Image]:
    return [Image.new("RGB", (50, 40), (200, 30, 30)), Image.effect_noise((64, 96), 80)]


def test_the_vlm_describes_each_photo_by_answering_the_persona_question(
    tiny_chat_vlm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captioner = Captioner.load(str(tiny_chat_vlm), CPU, torch.float32)
    assert captioner.chat_capable
    rendered: list[str] = []
    real = captioner.processor.apply_chat_template

    def spy(*args: Any, **kwargs: Any) -> Any:
        text = real(*args, **kwargs)
        rendered.append(text)
        return text

    decoded: list[list[str]] = []
    real_decode = captioner.processor.batch_decode

    def decode_spy(*args: Any, **kwargs: Any) -> Any:
        texts = real_decode(*args, **kwargs)
        decoded.append(texts)
        return texts

    monkeypatch.setattr(captioner.processor, "apply_chat_template", spy)
    monkeypatch.setattr(captioner.processor, "batch_decode", decode_spy)
    images = photos()
    descriptions = captioner.describe(images, max_new_tokens=24)
    assert len(rendered) == 1
    assert PERSONA_QUESTION in rendered[0] and "<image>" in rendered[0]
    assert rendered[0].endswith("Assistant:")  # the generation prompt: the model answers next
    assert len(descriptions) == 2
    [rows] = decoded
    for text, row in zip(descriptions, rows, strict=True):
        assert row.strip()  # the model did say something
        assert "Describe the person" not in row  # only the new tokens were decoded
        assert "<end_of_utterance>" not in text and "<image>" not in text
        # Each photo gets its own row's words (cleaned), or the neutral stand-in for garble.
        assert text in (clean_generation(row, max_chars=500), FALLBACK_DESCRIPTION)
    assert descriptions == [captioner.describe([image], max_new_tokens=24)[0] for image in images]


def test_one_checkpoint_is_loaded_once_for_captions_and_dialogue(
    config: InferenceConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []
    real = transformers.AutoModelForImageTextToText.from_pretrained

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForImageTextToText, "from_pretrained", counting)

    def no_second_model(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a separate dialogue model was loaded: {args}")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_second_model)
    models = load_models(config)
    assert loads == [config.caption_model]
    assert models.dialogue.model is models.captioner.model
    assert models.dialogue.tokenizer is models.captioner.processor.tokenizer
    assert models.captioner.model.config.model_type == "idefics3"
    assert models.dialogue.context_window == CONTEXT_TOKENS  # from the text config of the VLM
    assert not models.dialogue.model.training
    assert not any(p.requires_grad for p in models.dialogue.model.parameters())


def test_dialogue_prompts_keep_their_text_in_the_vlm_template(models: Models) -> None:
    # SmolVLM's template reads content as a list of parts: plain strings would vanish.
    messages = [
        {"role": "system", "content": "You are Anna, a person in a photo."},
        {"role": "user", "content": "What is the weather like in the park today?"},
    ]
    rendered = models.dialogue._render(messages)
    assert rendered == (
        "<|im_start|>System: You are Anna, a person in a photo.<end_of_utterance>\n"
        "User: What is the weather like in the park today?<end_of_utterance>\nAssistant:"
    )
    short = models.dialogue.count_tokens([{"role": "user", "content": "hi"}])
    assert 0 < short < models.dialogue.count_tokens(messages)


def test_the_shared_vlm_speaks_for_the_character(models: Models) -> None:
    texts = models.dialogue.generate([first_line_request(PERSONA)])
    assert len(texts) == 1 and texts[0].strip()


async def test_the_pipeline_gets_a_first_line_and_a_reply_from_the_vlm(
    models: Models, config: InferenceConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated: list[str] = []
    real_generate = models.dialogue.generate

    def generate_spy(requests: list[ChatRequest], on_text: Any = None) -> list[str]:
        texts = real_generate(requests, on_text)
        generated.extend(texts)
        return texts

    monkeypatch.setattr(models.dialogue, "generate", generate_spy)
    actor = Actor(models, config)
    try:
        description = await actor.describe(photos()[0])
        line = await actor.first_line(PERSONA)
        answer = await actor.reply(PERSONA, [], "hi, who are you?")
    finally:
        actor.close()
    assert description.strip() and generated  # the VLM itself was asked for the lines
    # Each line is what the VLM said, or (for garble) the stock line of its kind.
    assert line in (*generated, fallback_line(PERSONA, "first"))
    assert answer in (*generated, fallback_line(PERSONA, "reply"))


def test_batched_vlm_dialogue_rows_equal_unbatched_greedy_runs(models: Models) -> None:
    dialogue: DialogueModel = models.dialogue
    batch = [
        ChatRequest([{"role": "user", "content": "hi"}], max_new_tokens=20),
        ChatRequest(
            [
                {"role": "system", "content": "You are Anna, a person in a photo. Be brief."},
                {"role": "user", "content": "What is the weather like in the park today?"},
            ],
            max_new_tokens=6,
        ),
        ChatRequest([{"role": "user", "content": "你好，今天你想聊什么？"}], max_new_tokens=14),
    ]
    batched = dialogue.generate_tokens(batch)
    alone = [dialogue.generate_tokens([request])[0] for request in batch]
    assert batched == alone
    assert len({tuple(tokens) for tokens in batched}) == 3  # the rows really differ
    for tokens, request in zip(batched, batch, strict=True):
        assert len(tokens) <= request.max_new_tokens
        assert not dialogue.stop_ids.intersection(tokens)


def test_a_processor_missing_an_optional_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def needs_torchvision(*_: object, **__: object) -> None:
        raise ImportError("Qwen2VLVideoProcessor requires the Torchvision library")

    monkeypatch.setattr(captioner_module.AutoProcessor, "from_pretrained", needs_torchvision)
    with pytest.raises(ImportError, match=r"photo-talk\[gpu\]"):
        Captioner.load("Qwen/Qwen3-VL-2B-Instruct", torch.device("cpu"), torch.float32)


def test_caption_and_dialogue_tokenize_under_one_lock(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One VLM for both stages: the caption path takes the lock the dialogue path takes, so
    the shared fast tokenizer is never used from two threads at once ("Already borrowed")."""
    captioner = models.captioner
    dialogue = models.dialogue
    held: list[bool] = []
    processor = type(captioner.processor)
    tokenize, decode = processor.__call__, processor.batch_decode

    def tokenizing(self: Any, *args: Any, **kwargs: Any) -> Any:
        held.append(captioner.tokenizer_lock.locked())
        return tokenize(self, *args, **kwargs)

    def decoding(self: Any, *args: Any, **kwargs: Any) -> Any:
        held.append(captioner.tokenizer_lock.locked())
        return decode(self, *args, **kwargs)

    monkeypatch.setattr(processor, "__call__", tokenizing)
    monkeypatch.setattr(processor, "batch_decode", decoding)
    captioner.describe(photos()[:1], max_new_tokens=4)
    assert held == [True, True]
    # the dialogue side counts tokens under that very lock
    assert not captioner.tokenizer_lock.locked()
    with captioner.tokenizer_lock:
        counting = threading.Thread(
            target=dialogue.count_tokens, args=([{"role": "user", "content": "hi"}],)
        )
        counting.start()
        counting.join(0.3)
        assert counting.is_alive()  # waits for the caption side to let go
    counting.join(10)
    assert not counting.is_alive()
