"""The caption stage on a tiny real BLIP checkpoint, loaded like any hub folder."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from tiny_checkpoints import TinyModels

from inference.text.captioner import FALLBACK_DESCRIPTION, Captioner

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def captioner(tiny_models: TinyModels) -> Captioner:
    return Captioner.load(str(tiny_models.caption), CPU, torch.float32)


def photos() -> list[Image.Image]:
    gradient = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    return [Image.new("RGB", (50, 40), (200, 30, 30)), gradient, Image.effect_noise((64, 96), 80)]


def test_blip_is_a_plain_captioner(captioner: Captioner) -> None:
    assert not captioner.chat_capable
    assert captioner.model.config.model_type == "blip"
    assert not captioner.model.training


def test_describe_returns_the_models_own_clean_text_per_photo(captioner: Captioner) -> None:
    descriptions = captioner.describe(photos())  # the budget the caption stage uses
    assert len(descriptions) == 3
    # The model's words, not the neutral stand-in, and a different caption for each photo.
    assert FALLBACK_DESCRIPTION not in descriptions
    assert len(set(descriptions)) == 3
    for text in descriptions:
        assert not text.startswith("a photography of")  # the steering prefix is removed
        assert "[SEP]" not in text and "[DEC]" not in text and "[PAD]" not in text


def test_describe_is_batched_greedy_and_deterministic(captioner: Captioner) -> None:
    images = photos()
    batched = captioner.describe(images, max_new_tokens=20)
    assert batched == captioner.describe(images, max_new_tokens=20)
    alone = [captioner.describe([image], max_new_tokens=20)[0] for image in images]
    assert len(set(alone)) == len(images)  # rows are told apart, so a swap would show
    assert batched == alone
    assert captioner.describe(images[::-1], max_new_tokens=20) == alone[::-1]


def test_describe_nothing(captioner: Captioner) -> None:
    assert captioner.describe([]) == []


def test_unusable_captions_become_the_neutral_description(captioner: Captioner) -> None:
    # One new token cannot form a usable description; the prefix alone is stripped away.
    assert captioner._finish("a photography of", "a photography of") == FALLBACK_DESCRIPTION
    assert captioner._finish("a photography of [SEP] ###", "a photography of") == (
        FALLBACK_DESCRIPTION
    )
