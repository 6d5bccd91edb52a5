"""The safety checker given to image pipelines that ship without one (SAFETY_MODEL)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops
from sample_photos import photo
from tiny_checkpoints import TinyModels

from inference.config import InferenceConfig
from inference.face.finder import find_face
from inference.face.painter import TalkingPainter
from inference.serving.loading import load_models


def painter_with(tiny_models: TinyModels, safety_model: str) -> TalkingPainter:
    config = InferenceConfig(
        caption_model=str(tiny_models.caption),
        dialogue_model=str(tiny_models.dialogue),
        image_model=str(tiny_models.image),
        safety_model=safety_model,
        device="cpu",
        image_size=64,
    )
    painter = load_models(config).painter
    assert painter is not None
    return painter


def portrait() -> Image.Image:
    return Image.linear_gradient("L").resize((100, 70)).convert("RGB")


def test_a_pipeline_without_a_checker_gets_the_configured_one(
    tiny_models: TinyModels, tiny_safety_checkers: dict[str, Path]
) -> None:
    painter = painter_with(tiny_models, str(tiny_safety_checkers["flags"]))
    assert getattr(painter.pipeline, "safety_checker", None) is None  # sd-turbo ships none
    assert painter.safety is not None
    assert not painter.safety.model.training


def test_a_picture_the_checker_flags_is_reported_not_painted(
    tiny_models: TinyModels, tiny_safety_checkers: dict[str, Path]
) -> None:
    astronaut = photo("astronaut")
    face = find_face(astronaut)
    assert face is not None
    painter = painter_with(tiny_models, str(tiny_safety_checkers["flags"]))
    states = painter.paint_states(astronaut, face, "a woman smiling", seed=0)
    assert states.flagged and not states.mouths  # nothing painted is kept


def test_a_picture_the_checker_passes_is_painted(
    tiny_models: TinyModels, tiny_safety_checkers: dict[str, Path]
) -> None:
    astronaut = photo("astronaut")
    face = find_face(astronaut)
    assert face is not None
    painter = painter_with(tiny_models, str(tiny_safety_checkers["passes"]))
    states = painter.paint_states(astronaut, face, "a woman smiling", seed=0)
    assert not states.flagged
    assert ImageChops.difference(states.frame(astronaut, "open"), astronaut).getbbox() is not None


def test_an_empty_safety_model_means_no_checker(tiny_models: TinyModels) -> None:
    assert painter_with(tiny_models, "").safety is None
