"""The actor's talking picture and video on tiny real models: painted once per photo, only
when there is a face."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image
from sample_photos import photo
from tiny_checkpoints import TinyModels

from inference.actor import Actor
from inference.config import InferenceConfig
from inference.types import Persona, Speech

PERSONA = Persona("Eileen", "calm", "short", "a woman in an orange suit")


@pytest.fixture(scope="module")
def actor(tiny_models: TinyModels) -> Iterator[Actor]:
    config = InferenceConfig(
        caption_model=str(tiny_models.caption),
        dialogue_model=str(tiny_models.dialogue),
        image_model=str(tiny_models.image),
        device="cpu",
        image_size=64,
    )
    actor = Actor.load(config)
    yield actor
    actor.close()


@pytest.fixture
def paintings(actor: Actor, monkeypatch: pytest.MonkeyPatch) -> list[Image.Image]:
    """Records every inpainting call the actor makes (and still paints)."""
    painter = actor._models.painter
    assert painter is not None
    calls: list[Image.Image] = []
    paint = painter.paint_states

    def recording(image: Image.Image, *args: Any) -> Any:
        calls.append(image)
        return paint(image, *args)

    monkeypatch.setattr(painter, "paint_states", recording)
    return calls


async def test_no_face_no_painting_no_video(actor: Actor, paintings: list[Image.Image]) -> None:
    for name in ("coffee", "chelsea"):
        picture = await actor.talking_image(photo(name), PERSONA, "Hello!")
        assert Image.open(io.BytesIO(picture.jpeg)).size == photo(name).size
        assert await actor.talking_video(photo(name), PERSONA, "Hello!") is None
    assert paintings == []


async def test_a_face_is_painted_once_for_its_picture_and_its_videos(
    actor: Actor, paintings: list[Image.Image]
) -> None:
    astronaut = photo("astronaut")
    picture = await actor.talking_image(astronaut, PERSONA, "Hello!")
    assert not picture.flagged and Image.open(io.BytesIO(picture.jpeg)).size == astronaut.size
    samples = (0.5 * np.sin(np.linspace(0, 2000, 24_000))).astype(np.float32)
    speech = Speech(ogg_opus=b"", samples=samples, sample_rate=24_000)
    note = await actor.talking_video(astronaut, PERSONA, "Hello!", speech, square=True)
    silent = await actor.talking_video(astronaut, PERSONA, "Hello!", None, square=False)
    assert len(paintings) == 1  # one inpainting call serves the picture and both videos
    assert note is not None and silent is not None
    assert note.width == note.height and note.has_sound and abs(note.duration_s - 1.0) < 0.05
    assert (silent.width, silent.height) == astronaut.size and not silent.has_sound
    with av.open(io.BytesIO(note.mp4)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
    assert actor.latencies("video") and actor.latencies("mouths")


async def test_without_an_image_model_there_is_no_video(tiny_models: TinyModels) -> None:
    config = InferenceConfig(
        caption_model=str(tiny_models.caption), dialogue_model=str(tiny_models.dialogue)
    )
    actor = Actor.load(config)
    try:
        assert await actor.talking_video(photo("astronaut"), PERSONA, "Hi") is None
        picture = await actor.talking_image(photo("astronaut"), PERSONA, "Hi")
        assert Image.open(io.BytesIO(picture.jpeg)).size == (512, 512)
    finally:
        actor.close()
