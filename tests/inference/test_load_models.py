"""Loading every stage from an InferenceConfig, as the bot does at start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tiny_checkpoints import TinyModels

from inference.config import InferenceConfig
from inference.face import fonts
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


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A machine as a pip install leaves it: no CJK font at the known paths, and fontconfig
    (fc-list) not there to ask; Latin fonts as they are."""
    monkeypatch.setattr(fonts, "CJK_FONT_PATHS", (str(tmp_path / "NotoSansCJK-Regular.ttc"),))
    monkeypatch.setenv("PATH", str(tmp_path))
    caches = (fonts._cjk_fonts, fonts.warn_without_cjk_font, fonts._load)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


def test_without_a_cjk_font_one_line_at_start_says_what_to_install(
    tiny_models: TinyModels, no_cjk_font: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = InferenceConfig(str(tiny_models.caption), str(tiny_models.dialogue), device="cpu")
    with caplog.at_level(logging.WARNING):
        load_models(config)
        load_models(config)  # a second start in one process (the tests): said once
        fonts.load_font("你好，我是小雨", 24)  # drawing says nothing more
    said = [r.getMessage() for r in caplog.records if r.name == fonts.__name__]
    assert len(said) == 1
    assert "empty boxes" in said[0] and "fonts-noto-cjk" in said[0]
