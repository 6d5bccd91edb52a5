"""The lip-synced video on scikit-image's astronaut: the crop MuseTalk repaints, the mouths
blended back (nothing else changes but blinks), and a real MP4 with the voice as its sound."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw
from sample_photos import photo

from inference.config import InferenceConfig
from inference.face.finder import Face, find_face, square_around
from inference.face.lipsync import LipSync
from inference.face.synced_video import (
    Canvas,
    lip_sync_job,
    loudest_frame,
    make_canvas,
    render_synced_video,
    sync_box,
    synced_frames,
    synced_picture,
)
from inference.face.video import FPS, NOTE_SIDE
from inference.serving.loading import load_models
from inference.types import Speech

RATE = 16_000


def syllables(seconds: float, rate: int = RATE) -> np.ndarray:
    """A voice stand-in: noise bursts three times a second."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(0).standard_normal(len(t))
    return (0.3 * np.clip(np.sin(2 * np.pi * 3 * t), 0, None) * noise).astype(np.float32)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return photo("astronaut")


@pytest.fixture(scope="module")
def face(astronaut: Image.Image) -> Face:
    found = find_face(astronaut)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def lipsync(tiny_lipsync: Path) -> LipSync:
    config = InferenceConfig(
        "unused", "unused", llm_api_base="http://127.0.0.1:9/v1", device="cpu",
        lipsync_model=str(tiny_lipsync),
    )  # fmt: skip
    model = load_models(config).lipsync
    assert model is not None
    return model


@pytest.fixture(scope="module")
def mouths(lipsync: LipSync, astronaut: Image.Image, face: Face) -> np.ndarray:
    """The tiny model's mouths for 1.2 s of voice (noise that changes with the voice)."""
    return lipsync.generate([lip_sync_job(lipsync, astronaut, face, syllables(1.2))])[0]


def changed_by_the_mouth(canvas: Canvas) -> np.ndarray:
    """Where the feathered lower-face mask lets a repainted mouth change the frame."""
    where = np.zeros(canvas.base.shape[:2], dtype=bool)
    left, top, right, bottom = canvas.target
    where[top:bottom, left:right] = canvas.alpha[..., 0] > 0
    return where


def test_the_crop_puts_her_eyes_above_its_middle_and_her_lips_and_chin_below(
    astronaut: Image.Image, face: Face
) -> None:
    left, top, right, bottom = sync_box(face, astronaut.size)
    middle = (top + bottom) / 2
    # Seen in the photo: eyes at y ~102, lips from y 137 to 153 and x 200 to 245, chin ~172.
    assert 105 < middle < 135
    assert top < 95 and bottom >= 172
    assert left < 200 and right > 245


def test_outside_the_lower_face_every_pixel_stays_the_photos(
    astronaut: Image.Image, face: Face, mouths: np.ndarray
) -> None:
    region = square_around(face, astronaut.size)
    canvas = make_canvas(
        astronaut, sync_box(face, astronaut.size), region, (NOTE_SIDE, NOTE_SIDE), label_text="Hi"
    )
    frames = list(synced_frames(canvas, mouths))
    assert len(frames) == len(mouths) == 30
    moved = changed_by_the_mouth(canvas)
    # The mask covers the mouth and chin, not the eyes, not the frame's edges.
    scale = NOTE_SIDE / (region[2] - region[0])
    mouth_x, mouth_y = face.mouth_centre
    assert moved[round((mouth_y - region[1]) * scale), round((mouth_x - region[0]) * scale)]
    eye_y = face.landmarks.left_eye[1]
    assert not moved[: round((eye_y - region[1]) * scale) + 10].any()
    still = _labelled(canvas)
    for frame in frames:
        assert np.array_equal(frame[~moved], still[~moved])
    # Inside it the mouth moves from frame to frame (not a handful of cached images) ...
    changed = [not np.array_equal(a[moved], b[moved]) for a, b in itertools.pairwise(frames)]
    assert sum(changed) >= 0.9 * len(changed)
    # ... and fades in from the mask's edge: no seam, no box.
    alpha = np.zeros(moved.shape)
    left, top, right, bottom = canvas.target
    alpha[top:bottom, left:right] = canvas.alpha[..., 0]
    inner = moved[1:-1, 1:-1] & moved[:-2, 1:-1] & moved[2:, 1:-1]
    inner &= moved[1:-1, :-2] & moved[1:-1, 2:]
    edge = moved[1:-1, 1:-1] & ~inner
    assert edge.any() and alpha[1:-1, 1:-1][edge].max() <= 64
    assert alpha.max() == 255


def _labelled(canvas: Canvas) -> np.ndarray:
    out = canvas.base.copy()
    assert canvas.label is not None
    where, pixels = canvas.label
    out[where] = pixels
    return out


def test_a_blink_changes_only_the_eyes(
    astronaut: Image.Image, face: Face, mouths: np.ndarray
) -> None:
    closed = astronaut.copy()
    left, top, right, bottom = face.eyes
    ImageDraw.Draw(closed).rectangle((left, top, right - 1, bottom - 1), fill=(200, 150, 130))
    canvas = make_canvas(
        astronaut, sync_box(face, astronaut.size), (0, 0, 512, 512), (512, 512),
        blink_photo=closed,
    )  # fmt: skip
    frames = list(synced_frames(canvas, mouths[:4], closed_eyes={1, 2}))
    moved = changed_by_the_mouth(canvas)
    eyes = np.zeros_like(moved)
    eyes[face.eyes[1] : face.eyes[3], face.eyes[0] : face.eyes[2]] = True
    for i, frame in enumerate(frames):
        assert np.array_equal(frame[~moved & ~eyes], canvas.base[~moved & ~eyes])
        assert np.array_equal(frame[eyes], canvas.base[eyes]) == (i not in {1, 2})


def test_the_video_lasts_as_long_as_the_voice_which_is_its_sound(
    lipsync: LipSync, astronaut: Image.Image, face: Face
) -> None:
    seconds, rate = 1.3, 24_000  # the speech model's rate; lip sync hears it at 16 kHz
    sound = syllables(seconds, rate)
    speech = Speech(ogg_opus=b"", samples=sound, sample_rate=rate)
    job = lip_sync_job(lipsync, astronaut, face, syllables(seconds))
    (mouths,) = lipsync.generate([job])
    video = render_synced_video(astronaut, face, mouths, speech, "Hello", square=True)
    assert video.width == video.height == NOTE_SIDE and video.has_sound
    with av.open(io.BytesIO(video.mp4)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    with av.open(io.BytesIO(video.mp4)) as container:
        heard = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert abs(frames - seconds * FPS) <= 1
    assert abs(len(heard) / rate - seconds) < 0.1
    # The sound is that voice: its loudness rises and falls with the syllables.
    hop = rate // FPS
    n = min(len(sound), len(heard)) // hop - 2
    loud = [np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)) for x in (sound, heard)]
    best = max(np.corrcoef(loud[0][: n - s], loud[1][s:n])[0, 1] for s in range(3))
    assert best > 0.9


def test_the_picture_has_one_repainted_mouth_and_the_rest_is_the_photo(
    astronaut: Image.Image, face: Face, mouths: np.ndarray
) -> None:
    picture = np.asarray(synced_picture(astronaut, face, mouths[5]))
    plain = np.asarray(astronaut)
    canvas = make_canvas(astronaut, sync_box(face, astronaut.size), (0, 0, 512, 512), (512, 512))
    moved = changed_by_the_mouth(canvas)
    assert np.array_equal(picture[~moved], plain[~moved])
    assert not np.array_equal(picture[moved], plain[moved])


def test_the_loudest_frame_is_where_the_voice_is_loudest() -> None:
    quiet, loud = np.full(RATE, 0.01, np.float32), np.full(RATE // 5, 0.5, np.float32)
    assert loudest_frame(np.concatenate([quiet, loud, quiet]), RATE) in range(25, 30)
