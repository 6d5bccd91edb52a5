"""Loading every stage from an InferenceConfig, as the bot does at start-up."""

from __future__ import annotations

import pytest
from tiny_checkpoints import TinyModels

from inference.config import InferenceConfig
from inference.serving.loading import load_models


def test_all_stages_load_from_folders(tiny_models: TinyModels) -> None:
    config = InferenceConfig(
        caption_model=str(tiny_models.caption),
        dialogue_model=str(tiny_models.dialogue),
        image_model=str(tiny_models.image),
        device="cpu",
        image_size=64,
    )
    models = load_models(config)
    assert models.painter is not None and models.painter.size == 64
    assert models.dialogue.model is not models.captioner.model
    for model in (models.captioner.model, models.dialogue.model, models.painter.pipeline.unet):
        assert not model.training
        assert not any(p.requires_grad for p in model.parameters())


def test_no_image_model_means_no_painter(tiny_models: TinyModels) -> None:
    config = InferenceConfig(str(tiny_models.caption), str(tiny_models.dialogue), device="cpu")
    assert load_models(config).painter is None


def test_one_checkpoint_for_both_needs_a_chat_capable_vlm(tiny_models: TinyModels) -> None:
    config = InferenceConfig(str(tiny_models.caption), str(tiny_models.caption), device="cpu")
    with pytest.raises(ValueError, match="cannot chat"):
        load_models(config)


def test_bad_device_names_fail_before_loading(tiny_models: TinyModels) -> None:
    config = InferenceConfig(str(tiny_models.caption), str(tiny_models.dialogue), device="gpu0")
    with pytest.raises(ValueError, match="unknown inference device"):
        load_models(config)
