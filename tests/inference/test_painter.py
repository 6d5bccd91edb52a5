"""The talking picture on a tiny real Stable Diffusion img2img checkpoint."""

from __future__ import annotations

import pytest
import torch
from PIL import Image, ImageChops
from tiny_checkpoints import TinyModels

from inference.painter import TalkingPainter, mouth_mask, working_size

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def painter(tiny_models: TinyModels) -> TalkingPainter:
    return TalkingPainter.load(
        str(tiny_models.image), CPU, torch.float32, size=64, steps=2, strength=0.5
    )


def portrait() -> Image.Image:
    return Image.linear_gradient("L").resize((100, 70)).convert("RGB")


def test_paint_keeps_size_and_only_changes_the_mouth_area(painter: TalkingPainter) -> None:
    original = portrait()
    result = painter.paint(original, "a woman smiling", seed=0)
    assert not result.flagged
    assert result.image.size == original.size and result.image.mode == "RGB"
    difference = ImageChops.difference(result.image, original).convert("L")
    assert difference.getbbox() is not None  # the picture did change...
    mask = mouth_mask(original.size)
    outside = mask.point(lambda v: 255 if v == 0 else 0)
    assert ImageChops.multiply(difference, outside).getbbox() is None  # ...only inside the mask
    assert mask.getpixel((50, 38)) == 255 and mask.getpixel((0, 0)) == 0
    for corner in [(0, 0), (99, 0), (0, 69), (99, 69)]:
        assert result.image.getpixel(corner) == original.getpixel(corner)


def test_paint_is_reproducible_per_seed(painter: TalkingPainter) -> None:
    first = painter.paint(portrait(), "a man", seed=7).image
    again = painter.paint(portrait(), "a man", seed=7).image
    other = painter.paint(portrait(), "a man", seed=8).image
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_at_least_one_denoising_step_always_runs() -> None:
    for steps, strength in [(1, 0.3), (2, 0.5), (4, 0.29), (1, 1.0), (3, 0.1)]:
        painter = TalkingPainter(None, steps=steps, strength=strength)
        assert int(painter.steps * strength) >= 1
        assert painter.steps >= steps
    with pytest.raises(ValueError):
        TalkingPainter(None, strength=0.0)


def test_few_step_checkpoints_run_without_guidance(painter: TalkingPainter) -> None:
    assert painter.guidance_scale == 0.0  # two steps: a turbo-style configuration
    assert painter.pipeline.safety_checker is None  # the tiny pipeline was saved without one


@pytest.mark.parametrize(
    ("size", "target", "expected"),
    [((100, 70), 64, (64, 64)), ((1000, 500), 512, (512, 256)), ((300, 2000), 512, (72, 512))],
)
def test_working_size_is_a_multiple_of_8(
    size: tuple[int, int], target: int, expected: tuple[int, int]
) -> None:
    assert working_size(size, target) == expected
