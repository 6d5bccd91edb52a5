"""The talking video: a mouth state per frame following the voice (or the text's syllables),
a blink now and then, encoded in-process as H.264 MP4 with the voice as AAC sound (PyAV)."""

from __future__ import annotations

import itertools
import math
import random
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
from PIL import Image

from inference.face.bubble import draw_centred_label
from inference.face.finder import Box, square_around
from inference.face.painter import Mouth, MouthStates
from inference.language import detect_language
from inference.types import Speech

FPS = 25
MAX_SECONDS = 20.0  # Telegram takes video notes up to 60 s; a line rarely needs more than 20
NOTE_SIDE = 384  # a round video note's side (Telegram shows them at about this size)
VIDEO_SIDE = 640  # longest side of a video in a group
BLINK_FRAMES = 3
SYLLABLES_PER_S = 4.5
_VOWEL_RUN = re.compile(r"[aeiouyäöüéèàáíóú]+", re.IGNORECASE)
_PAUSE = re.compile(r"[,.!?;:，。！？；：…]")


@dataclass(frozen=True)
class TalkingVideo:
    """An MP4 (H.264, with AAC sound when there was a voice) and what Telegram wants to know."""

    mp4: bytes
    width: int
    height: int
    duration_s: float
    has_sound: bool


def mouths_from_speech(speech: Speech, fps: int = FPS, max_s: float = MAX_SECONDS) -> list[Mouth]:
    """One mouth state per frame from the voice's loudness; loud frames with few zero
    crossings (dark vowels: o, u) get rounded lips."""
    samples = np.asarray(speech.samples, dtype=np.float32)[: int(max_s * speech.sample_rate)]
    hop = max(1, speech.sample_rate // fps)
    frames = max(1, math.ceil(len(samples) / hop))
    loudness = np.zeros(frames, dtype=np.float32)
    crossings = np.zeros(frames, dtype=np.float32)
    for i in range(frames):
        window = samples[i * hop : (i + 1) * hop]
        if len(window):
            loudness[i] = float(np.sqrt(np.mean(window**2)))
            crossings[i] = float(np.mean(np.abs(np.diff(np.signbit(window).astype(np.int8)))))
    peak = float(np.percentile(loudness, 95)) or 1.0
    level = loudness / peak
    voiced = level > 0.45
    # Clearly fewer zero crossings than the voice's usual: a dark vowel (o, u), lips rounded.
    low_pitch = crossings < (0.7 * np.median(crossings[voiced]) if voiced.any() else 0)
    mouths: list[Mouth] = []
    for lvl, low in zip(level, low_pitch, strict=True):
        if lvl < 0.15:
            mouths.append("closed")
        elif lvl < 0.45:
            mouths.append("half")
        else:
            mouths.append("round" if low else "open")
    return mouths


def mouths_from_text(text: str, fps: int = FPS, max_s: float = MAX_SECONDS) -> list[Mouth]:
    """A syllable rhythm when there is no voice: CJK characters and Latin vowel runs are
    syllables (o/u ones rounded), punctuation a short pause."""
    per_syllable = max(2, round(fps / SYLLABLES_PER_S))
    mouths: list[Mouth] = []
    for token in re.findall(rf"{_PAUSE.pattern}|[^\W\d_]+", text):
        if _PAUSE.fullmatch(token):
            mouths += ["closed"] * (per_syllable * 2)
            continue
        chinese = detect_language(token) == "zh"
        runs = list(token) if chinese else _VOWEL_RUN.findall(token) or [token]
        for run in runs:
            peak: Mouth = "round" if run[0].lower() in "ouü" else "open"
            mouths += _syllable(peak, per_syllable)
    mouths += ["closed"] * per_syllable  # the mouth closes at the end of the line
    return mouths[: int(max_s * fps)]


def _syllable(peak: Mouth, frames: int) -> list[Mouth]:
    rise = max(1, frames // 4)
    half: list[Mouth] = ["half"] * rise
    return [*half, *[peak] * (frames - 2 * rise), *half]


def blinks(frames: int, fps: int = FPS, seed: int = 0) -> set[int]:
    """Frames with the eyes closed: a blink of ~0.1 s every 2-5 s, like a relaxed speaker."""
    rng = random.Random(seed)
    closed: set[int] = set()
    at = rng.uniform(0.8, 2.5) * fps
    while at < frames:
        closed.update(range(int(at), min(frames, int(at) + BLINK_FRAMES)))
        at += rng.uniform(2.0, 5.0) * fps
    return closed


def frame_region(states: MouthStates, size: tuple[int, int], *, square: bool) -> Box:
    """The part of the photo a video shows: a square around the face, or all of it."""
    if square:
        return square_around(states.face, size)
    return 0, 0, size[0], size[1]


def render_video(
    photo: Image.Image,
    states: MouthStates,
    text: str,
    speech: Speech | None,
    *,
    square: bool,
    seed: int = 0,
) -> TalkingVideo:
    """Compose the frames and encode them, with the voice as sound track when there is one."""
    mouths = mouths_from_speech(speech) if speech is not None else mouths_from_text(text)
    closed_eyes = blinks(len(mouths), seed=seed)
    region = frame_region(states, photo.size, square=square)
    out_size = output_size(region, square=square)
    # Only 4 mouths x 2 eye states exist: compose each once, then frames just pick one.
    looks: dict[tuple[Mouth, bool], np.ndarray] = {}
    for mouth in set(mouths):
        for blink in (False, True):
            frame = states.frame(photo, mouth, blink).crop(region)
            frame = draw_centred_label(frame.resize(out_size, Image.Resampling.LANCZOS), text)
            looks[(mouth, blink)] = np.asarray(frame)
    frames = [looks[(m, i in closed_eyes)] for i, m in enumerate(mouths)]
    mp4 = encode_mp4(frames, FPS, speech)
    return TalkingVideo(
        mp4=mp4,
        width=out_size[0],
        height=out_size[1],
        duration_s=len(frames) / FPS,
        has_sound=speech is not None,
    )


def output_size(region: Box, *, square: bool) -> tuple[int, int]:
    """A video's size for `region`: a note's fixed side, or the region, never grown."""
    width, height = region[2] - region[0], region[3] - region[1]
    # A note is always NOTE_SIDE (Telegram draws it at a fixed size); a video never grows.
    scale = NOTE_SIDE / width if square else min(1.0, VIDEO_SIDE / max(width, height))
    # H.264 in yuv420p needs even sides.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def encode_mp4(frames: Iterable[np.ndarray], fps: int, speech: Speech | None) -> bytes:
    """H.264 (yuv420p, plays everywhere) + AAC mono, cut to the frames' length; `frames` may
    be a generator (a lip-synced video's frames are made one at a time).

    Written to a temporary file: "faststart" (the index first, so Telegram can play it while
    it downloads) rewrites the file at the end, which an in-memory buffer cannot do.
    """
    pictures = iter(frames)
    first = next(pictures)
    with tempfile.TemporaryDirectory(prefix="photo-talk-video-") as folder:
        path = f"{folder}/talking.mp4"
        _write_mp4(path, itertools.chain([first], pictures), fps, speech, first.shape[1::-1])
        with open(path, "rb") as file:
            return file.read()


def _write_mp4(
    path: str,
    frames: Iterator[np.ndarray],
    fps: int,
    speech: Speech | None,
    size: tuple[int, int],
) -> None:
    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as box:
        video = box.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.options = {"crf": "28", "preset": "veryfast"}
        audio = None
        if speech is not None:
            audio = box.add_stream("aac", rate=speech.sample_rate, layout="mono")
        count = 0
        for picture in frames:
            box.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
            count += 1
        box.mux(video.encode(None))
        if audio is not None and speech is not None:
            _encode_audio(box, audio, speech, count / fps)


def _encode_audio(box: Any, audio: Any, speech: Speech, seconds: float) -> None:
    samples = np.asarray(speech.samples, dtype=np.float32)[: int(seconds * speech.sample_rate)]
    chunk = 1024  # AAC's frame size
    for start in range(0, len(samples), chunk):
        frame = av.AudioFrame.from_ndarray(
            np.clip(samples[start : start + chunk], -1.0, 1.0)[None, :],
            format="fltp",
            layout="mono",
        )
        frame.sample_rate = speech.sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, speech.sample_rate)
        box.mux(audio.encode(frame))
    box.mux(audio.encode(None))
