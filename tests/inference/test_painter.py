"""Mouth states inpainted on a tiny real Stable Diffusion checkpoint, on a real portrait."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sample_photos import photo
from tiny_checkpoints import TinyModels

from inference.face.finder import Box, Face, find_face
from inference.face.painter import MouthStates, TalkingPainter

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def painter(tiny_models: TinyModels) -> TalkingPainter:
    return TalkingPainter.load(
        str(tiny_models.image), CPU, torch.float32, size=64, steps=2, strength=0.5
    )


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return photo("astronaut")


@pytest.fixture(scope="module")
def face(astronaut: Image.Image) -> Face:
    found = find_face(astronaut)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def states(painter: TalkingPainter, astronaut: Image.Image, face: Face) -> MouthStates:
    return painter.paint_states(astronaut, face, "a woman smiling", seed=0)


def changed(a: Image.Image, b: Image.Image) -> np.ndarray:
    return np.asarray(a, dtype=np.int16) != np.asarray(b, dtype=np.int16)


def inside(size: tuple[int, int], box: Box) -> np.ndarray:
    mask = np.zeros((size[1], size[0], 3), dtype=bool)
    mask[box[1] : box[3], box[0] : box[2]] = True
    return mask


def test_the_image_model_loads_as_an_inpainting_pipeline(painter: TalkingPainter) -> None:
    assert "Inpaint" in type(painter.pipeline).__name__
    assert painter.guidance_scale == 0.0  # two steps: a turbo-style configuration
    assert painter.pipeline.safety_checker is None  # the tiny pipeline was saved without one


def test_each_mouth_state_changes_the_mouth_and_nothing_else(
    states: MouthStates, astronaut: Image.Image, face: Face
) -> None:
    assert not states.flagged and set(states.mouths) == {"half", "open", "round"}
    assert states.frame(astronaut, "closed").tobytes() == astronaut.tobytes()  # the photo
    mouth = inside(astronaut.size, face.mouth)
    for name in ("half", "open", "round"):
        difference = changed(states.frame(astronaut, name), astronaut)  # type: ignore[arg-type]
        assert difference[mouth].any()  # the mouth was repainted...
        assert not difference[~mouth].any()  # ...and every other pixel is the photo's
    assert states.mouths["open"].tobytes() != states.mouths["half"].tobytes()


def test_a_blink_changes_only_the_eyes(
    states: MouthStates, astronaut: Image.Image, face: Face
) -> None:
    difference = changed(states.frame(astronaut, "closed", blink=True), astronaut)
    eyes = inside(astronaut.size, face.eyes)
    assert difference[eyes].any() and not difference[~eyes].any()


def test_painting_is_reproducible_per_seed(
    painter: TalkingPainter, states: MouthStates, astronaut: Image.Image, face: Face
) -> None:
    again = painter.paint_states(astronaut, face, "a woman smiling", seed=0)
    other = painter.paint_states(astronaut, face, "a woman smiling", seed=1)
    assert again.mouths["open"].tobytes() == states.mouths["open"].tobytes()
    assert other.mouths["open"].tobytes() != states.mouths["open"].tobytes()


def test_at_least_one_denoising_step_always_runs() -> None:
    for steps, strength in [(1, 0.3), (2, 0.5), (4, 0.29), (1, 1.0), (3, 0.1)]:
        painter = TalkingPainter(None, steps=steps, strength=strength)
        assert int(painter.steps * strength) >= 1
        assert painter.steps >= steps
    with pytest.raises(ValueError):
        TalkingPainter(None, strength=0.0)
