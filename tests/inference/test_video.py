"""The talking video: mouth per frame from the voice or the text, blinks, and a real MP4."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image
from sample_photos import photo

from inference.face.finder import Face, find_face
from inference.face.painter import MouthStates
from inference.face.video import (
    FPS,
    MAX_SECONDS,
    NOTE_SIDE,
    blinks,
    frame_region,
    mouths_from_speech,
    mouths_from_text,
    render_video,
)
from inference.types import Speech

RATE = 24_000
RED, BLUE = (255, 0, 0), (0, 0, 255)


def tone(pattern: list[tuple[float, float]], rate: int = RATE, pitch: float = 220.0) -> Speech:
    """A voice stand-in: (seconds, loudness) pieces of a sine tone."""
    pieces = []
    for seconds, loudness in pattern:
        t = np.arange(int(seconds * rate)) / rate
        pieces.append(loudness * np.sin(2 * np.pi * pitch * t))
    samples = np.concatenate(pieces).astype(np.float32)
    return Speech(ogg_opus=b"", samples=samples, sample_rate=rate)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return photo("astronaut")


@pytest.fixture(scope="module")
def states(astronaut: Image.Image) -> MouthStates:
    """Mouth states anyone can see in a decoded frame: red when open, blue when rounded."""
    face = find_face(astronaut)
    assert face is not None
    size = (face.mouth[2] - face.mouth[0], face.mouth[3] - face.mouth[1])
    mouths = {
        "half": Image.new("RGB", size, (128, 0, 0)),
        "open": Image.new("RGB", size, RED),
        "round": Image.new("RGB", size, BLUE),
    }
    return MouthStates(face=face, mouths=mouths, blink=None)


def decode(mp4: bytes) -> tuple[list[np.ndarray], list[str], float]:
    with av.open(io.BytesIO(mp4)) as container:
        kinds = [stream.type for stream in container.streams]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        duration = (container.duration or 0) / 1_000_000
    return frames, kinds, duration


def mouth_colour(
    frame: np.ndarray, face: Face, scale: float, origin: tuple[int, int]
) -> np.ndarray:
    x, y = face.mouth_centre
    return frame[round((y - origin[1]) * scale), round((x - origin[0]) * scale)].astype(int)


def test_loud_frames_open_the_mouth_and_silence_closes_it() -> None:
    mouths = mouths_from_speech(tone([(1.0, 0.0), (1.0, 0.8), (0.6, 0.0)]))
    assert len(mouths) == round(2.6 * FPS)
    assert set(mouths[2:23]) == {"closed"}
    assert set(mouths[27:48]) <= {"open", "round"} and "open" in mouths[27:48]
    assert set(mouths[-10:]) == {"closed"}
    assert mouths_from_speech(tone([(1.0, 0.0)])) == ["closed"] * FPS  # silence: no movement
    bright, dark = tone([(1.0, 0.8)], pitch=900.0), tone([(1.0, 0.8)], pitch=150.0)
    both = np.concatenate([bright.samples, dark.samples])
    mixed = mouths_from_speech(Speech(ogg_opus=b"", samples=both, sample_rate=RATE))
    assert set(mixed[2:23]) == {"open"} and set(mixed[27:48]) == {"round"}  # o/u: rounded


def test_a_long_voice_is_cut_at_the_cap() -> None:
    assert len(mouths_from_speech(tone([(MAX_SECONDS + 5, 0.5)]))) == MAX_SECONDS * FPS


def test_without_a_voice_the_text_gives_a_syllable_rhythm() -> None:
    hello = mouths_from_text("Hello there")
    chinese = mouths_from_text("你好吗")
    assert {"open", "half", "closed"} <= set(hello)
    assert len(chinese) > len(mouths_from_text("你"))  # one syllable per character
    assert "round" in mouths_from_text("Who knew you")  # o/u vowels round the lips
    paused = mouths_from_text("Yes, yes")
    assert len(paused) > len(mouths_from_text("Yes yes")) + 4  # a comma is a pause
    assert paused[-1] == "closed"
    assert len(mouths_from_text("la " * 1000)) == MAX_SECONDS * FPS


def test_blinks_come_now_and_then_and_last_a_few_frames() -> None:
    closed = blinks(20 * FPS, seed=3)
    assert closed == blinks(20 * FPS, seed=3)
    assert 3 <= len(closed) / 3 <= 10  # every 2-5 s over 20 s
    assert min(closed) >= 0.8 * FPS
    assert not blinks(10)  # too short for a blink


def test_a_video_note_is_a_square_h264_mp4_with_the_voice(
    astronaut: Image.Image, states: MouthStates
) -> None:
    speech = tone([(1.0, 0.0), (1.0, 0.8), (0.5, 0.0)])
    video = render_video(astronaut, states, "Hello", speech, square=True)
    assert video.width == video.height == NOTE_SIDE and video.has_sound
    frames, kinds, duration = decode(video.mp4)
    assert kinds == ["video", "audio"]
    assert abs(len(frames) - speech.duration_s * FPS) <= 1
    assert abs(duration - speech.duration_s) < 0.2
    assert frames[0].shape == (NOTE_SIDE, NOTE_SIDE, 3)
    assert len(video.mp4) < 1_000_000  # far under Telegram's limits
    # The mouth follows the voice: closed (the photo) in the silence, red when loud.
    left, top, right, _ = frame_region(states, astronaut.size, square=True)
    scale = NOTE_SIDE / (right - left)
    quiet = mouth_colour(frames[12], states.face, scale, (left, top))
    loud = mouth_colour(frames[37], states.face, scale, (left, top))
    assert loud[0] > 200 and loud[1] < 60 and loud[2] < 60
    assert not (quiet[0] > 200 and quiet[1] < 60)
    # Every frame says it is AI-made: the label, bottom centre, inside the round note's circle.
    plain = np.asarray(
        astronaut.crop((left, top, right, top + right - left)).resize(frames[0].shape[1::-1]),
        dtype=int,
    )
    band = (
        slice(int(NOTE_SIDE * 0.84), int(NOTE_SIDE * 0.89)),
        slice(NOTE_SIDE // 2 - 20, NOTE_SIDE // 2 + 20),
    )
    assert np.abs(frames[0][band].astype(int) - plain[band]).mean() > 20


def test_a_silent_group_video_shows_the_whole_photo(
    astronaut: Image.Image, states: MouthStates
) -> None:
    wide = Image.new("RGB", (768, 512), (90, 90, 90))
    wide.paste(astronaut, (128, 0))
    face = find_face(wide)
    assert face is not None
    text = "Hello you, how are you?"
    size = (face.mouth[2] - face.mouth[0], face.mouth[3] - face.mouth[1])
    mouths = {name: patch.resize(size) for name, patch in states.mouths.items()}
    video = render_video(wide, MouthStates(face, mouths), text, None, square=False)
    assert (video.width, video.height) == (640, 426) and not video.has_sound
    frames, kinds, _ = decode(video.mp4)
    assert kinds == ["video"]
    assert len(frames) == len(mouths_from_text(text))
    colours = {tuple(mouth_colour(f, face, 640 / 768, (0, 0)) // 100) for f in frames}
    assert len(colours) >= 3  # closed, open (red) and rounded (blue) all appear
