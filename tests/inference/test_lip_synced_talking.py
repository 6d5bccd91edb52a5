"""The actor with a lip-sync model (tiny MuseTalk layout) and no image model: videos and the
talking picture follow the voice; a photo without a face never reaches the model."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image
from sample_photos import photo
from tiny_checkpoints import TinyModels

import inference.face.talking
from inference.actor import Actor
from inference.config import InferenceConfig
from inference.face.lipsync import LipSyncJob
from inference.face.video import FPS
from inference.types import Persona, Speech

PERSONA = Persona("Eileen", "calm", "short", "a woman in an orange suit")
RATE = 24_000  # the speech model's rate


def speech(*pieces: tuple[float, float]) -> Speech:
    """(seconds, loudness) pieces of noise: a voice stand-in."""
    rng = np.random.default_rng(0)
    samples = np.concatenate([loud * rng.standard_normal(int(s * RATE)) for s, loud in pieces])
    return Speech(ogg_opus=b"", samples=samples.astype(np.float32), sample_rate=RATE)


@pytest.fixture(scope="module")
def actor(tiny_lipsync: Path) -> Iterator[Actor]:
    config = InferenceConfig(
        caption_model="unused",
        dialogue_model="unused",
        llm_api_base="http://127.0.0.1:9/v1",  # never answers: captions are not needed here
        llm_retries=1,
        device="cpu",
        lipsync_model=str(tiny_lipsync),
    )
    actor = Actor.load(config)
    yield actor
    actor.close()


@pytest.fixture
def jobs(actor: Actor, monkeypatch: pytest.MonkeyPatch) -> list[LipSyncJob]:
    """Every job the lip-sync model is given (it still runs them)."""
    model = actor._models.lipsync
    assert model is not None
    seen: list[LipSyncJob] = []
    generate = model.generate

    def recording(batch: list[LipSyncJob]) -> Any:
        seen.extend(batch)
        return generate(batch)

    monkeypatch.setattr(model, "generate", recording)
    return seen


async def test_a_photo_without_a_face_never_reaches_the_model(
    actor: Actor, jobs: list[LipSyncJob]
) -> None:
    voice = speech((1.0, 0.3))
    for name in ("coffee", "chelsea"):
        picture = await actor.talking_image(photo(name), PERSONA, "Hello!", speech=voice)
        assert Image.open(io.BytesIO(picture.jpeg)).size == photo(name).size
        assert await actor.talking_video(photo(name), PERSONA, "Hello!", voice) is None
    assert jobs == []


async def test_a_line_is_lip_synced_frame_by_frame_with_its_voice_as_sound(
    actor: Actor, jobs: list[LipSyncJob]
) -> None:
    voice = speech((0.5, 0.3), (0.4, 0.05), (0.5, 0.3))
    video = await actor.talking_video(photo("astronaut"), PERSONA, "Hello!", voice)
    assert video is not None and video.has_sound
    with av.open(io.BytesIO(video.mp4)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        frames = sum(1 for _ in container.decode(video=0))
    assert kinds == ["audio", "video"]
    assert abs(frames - voice.duration_s * FPS) <= 1
    assert len(jobs) == 1 and len(jobs[0].frames) == frames  # every frame made by the model


async def test_the_picture_is_the_voices_loudest_moment(
    actor: Actor, jobs: list[LipSyncJob]
) -> None:
    astronaut = photo("astronaut")
    voice = speech((0.6, 0.02), (0.2, 0.5), (0.6, 0.02))
    picture = await actor.talking_image(astronaut, PERSONA, "Hi!", speech=voice)
    assert [job.frames for job in jobs] == [(jobs[0].frames[0],)]
    assert 15 <= jobs[0].frames[0] < 20  # the loud part: 0.6 s to 0.8 s
    drawn = np.asarray(Image.open(io.BytesIO(picture.jpeg)).convert("RGB"), dtype=int)
    plain = np.asarray(astronaut, dtype=int)
    face = await actor.face_of(astronaut)
    assert face is not None
    x, y = face.mouth_centre
    mouth = (slice(y - 8, y + 8), slice(x - 15, x + 15))
    left, top, right, bottom = face.eyes
    eyes = (slice(top, bottom), slice(left, right))
    assert np.abs(drawn[mouth] - plain[mouth]).mean() > 10  # repainted (random weights)
    assert np.abs(drawn[eyes] - plain[eyes]).mean() < 4  # the photo's, but for JPEG


async def test_without_a_voice_there_is_nothing_to_follow(
    actor: Actor, jobs: list[LipSyncJob]
) -> None:
    astronaut = photo("astronaut")
    assert not actor.can_animate(voice=False) and actor.can_animate(voice=True)
    assert await actor.talking_video(astronaut, PERSONA, "Hello!") is None
    picture = await actor.talking_image(astronaut, PERSONA, "Hello!")
    assert Image.open(io.BytesIO(picture.jpeg)).size == astronaut.size
    assert jobs == []


async def test_a_photos_face_is_searched_once(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    searched: list[Image.Image] = []
    find = inference.face.talking.find_face
    monkeypatch.setattr(
        inference.face.talking, "find_face", lambda i: searched.append(i) or find(i)
    )
    cup = photo("coffee").rotate(180)  # pixels this module has not shown the actor yet
    assert await actor.face_of(cup) is None
    assert await actor.face_of(cup.copy()) is None
    assert len(searched) == 1


async def test_warm_up_runs_the_lip_sync_model_once(actor: Actor, jobs: list[LipSyncJob]) -> None:
    await actor.warm_up()
    assert len(jobs) == 1


async def test_with_an_image_model_too_the_eyes_blink_with_the_painted_blink(
    tiny_lipsync: Path, tiny_models: TinyModels
) -> None:
    config = InferenceConfig(
        caption_model="unused",
        dialogue_model="unused",
        llm_api_base="http://127.0.0.1:9/v1",
        device="cpu",
        image_model=str(tiny_models.image),
        image_size=64,
        lipsync_model=str(tiny_lipsync),
    )
    actor = Actor.load(config)
    try:
        astronaut = photo("astronaut")
        voice = speech((2.6, 0.3))  # the first blink (seed 0) closes the eyes at frames 55-57
        video = await actor.talking_video(astronaut, PERSONA, "Hi", voice, square=False)
        face = await actor.face_of(astronaut)
    finally:
        actor.close()
    assert video is not None and face is not None
    with av.open(io.BytesIO(video.mp4)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    left, top, right, bottom = face.eyes
    eyes = [frame[top:bottom, left:right] for frame in frames]  # the group video: 1:1
    open_eyes = np.abs(eyes[20] - eyes[40]).mean()
    assert np.abs(eyes[56] - eyes[40]).mean() > 3 * open_eyes + 5
