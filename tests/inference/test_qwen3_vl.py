"""The default caption model's path: a tiny random Qwen3-VL through the product's loader, on
CPU, where its processor's video half (torchvision) cannot load and is left out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from tiny_checkpoints import build_qwen3_vl_checkpoint

from inference.config import InferenceConfig
from inference.serving.loading import load_models
from inference.text.captioner import PERSONA_QUESTION, Captioner
from inference.text.dialogue import DialogueModel
from inference.types import ChatRequest

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def qwen3_vl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_qwen3_vl_checkpoint(tmp_path_factory.mktemp("qwen3_vl"))


def photos() -> list[Image.Image]:
    noise = Image.effect_noise((64, 48), 80).convert("RGB")  # random: make it once per test
    return [Image.new("RGB", (96, 128), (200, 30, 30)), noise]


def test_the_hub_layout_loads_without_its_video_processor(qwen3_vl: Path) -> None:
    assert (qwen3_vl / "video_preprocessor_config.json").is_file()  # as on the hub
    captioner = Captioner.load(str(qwen3_vl), CPU, torch.float32)
    processor = captioner.processor
    assert captioner.chat_capable
    assert type(processor).__name__ == "Qwen3VLProcessorImagesOnly"
    assert type(processor.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    assert not hasattr(processor, "video_processor")
    assert type(captioner.model).__name__ == "Qwen3VLForConditionalGeneration"


def test_qwen3_vl_describes_each_photo_from_its_pixels(qwen3_vl: Path) -> None:
    captioner = Captioner.load(str(qwen3_vl), CPU, torch.float32)
    prompt = captioner._prompt()
    assert prompt is not None and PERSONA_QUESTION in prompt and "<|image_pad|>" in prompt
    images = photos()
    inputs = captioner._inputs(images, prompt)
    assert inputs["pixel_values"].shape[0] > 0 and inputs["image_grid_thw"].shape[0] == 2
    descriptions = captioner.describe(images, max_new_tokens=16)
    assert len(descriptions) == 2 and all(descriptions)
    # Batched rows (left-padded: the photos differ in size) equal unbatched runs.
    assert descriptions == [captioner.describe([image], max_new_tokens=16)[0] for image in images]


def test_one_qwen3_vl_can_caption_and_talk(qwen3_vl: Path) -> None:
    folder = str(qwen3_vl)
    config = InferenceConfig(caption_model=folder, dialogue_model=folder, device="cpu")
    models = load_models(config)
    assert models.dialogue is not None and models.captioner is not None
    assert models.dialogue.model is models.captioner.model  # loaded once
    request = ChatRequest([{"role": "user", "content": "Hello!"}], max_new_tokens=8)
    assert isinstance(models.dialogue.generate([request])[0], str)
    assert isinstance(DialogueModel.from_captioner(models.captioner), DialogueModel)
